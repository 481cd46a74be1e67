-- Flat push reports: one row per valid room_push_ack message. Written by the cleaning job as JSON
-- lines; read back by the message-loss job (no window: a day is upserted by key).
-- role: clean_topic
apply template room_message_table (table = 'room_push_ack_clean', columns = '
    server_time bigint,  -- epoch ms
    max_msgid bigint,
    missing_msgids array <bigint>,
    missing_count int,
    -- position of the message in its split: the later message wins a server_time tie
    message_seq bigint,
');
