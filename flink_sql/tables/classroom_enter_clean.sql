-- Flat room enter/leave attempts: one row per valid `classroom_enter` message, written by
-- clean_classroom_enter; read back with an event-time watermark (only natural events reach it).
-- role: label_input
apply template classroom_message_table (table = 'classroom_enter_clean', columns = '
    `action`         STRING,  -- enter | leave
    `result`         STRING,  -- enter only: success | fail
    started_at       BIGINT,  -- enter only: attempt start (epoch ms)
    failed_component STRING,  -- result = fail only
');
