-- Flat push reports: one row per valid room_push_ack message. Written by the cleaning job as JSON
-- lines; read back by the message-loss job (no window: a day is upserted by key).
-- role: clean_topic
CREATE TABLE room_push_ack_clean (
    message_key    STRING,  -- <topic>|<split>|<position>
    source_split   STRING,
    bid            BIGINT,
    room_id        STRING,
    uid            BIGINT,
    terminal       STRING,
    server_time    BIGINT,  -- epoch ms
    max_msgid      BIGINT,
    missing_msgids ARRAY<BIGINT>,
    missing_count  INT,
    -- position of the message in its split: the later message wins a server_time tie
    message_seq    BIGINT,
    ingested_at    TIMESTAMP_LTZ(3),
    processed_at   TIMESTAMP_LTZ(3)
);
