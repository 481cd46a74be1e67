-- Flat dynamic-courseware events: one row per valid `classroom_courseware_event` message, written by
-- clean_classroom_courseware_event; read back with an event-time watermark (only natural events reach it).
-- role: label_input
apply template classroom_message_table (table = 'classroom_courseware_event_clean', columns = '
    `action`         STRING,  -- load | page_turn | draw | drag
    origin           STRING,  -- self | peer
    `result`         STRING,  -- ok | fail
    lag_ms           BIGINT,  -- optional: delay from the peer action to its display here
');
