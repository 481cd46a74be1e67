-- Flat push reports: one row per valid room_push_ack message. Written by the cleaning job as JSON
-- lines; read back by the message-loss job (no window: a day is upserted by key).
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
) WITH (
    'connector' = 'kafka',
    'topic' = 'room_push_ack_clean',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP_SERVERS}',
    'properties.max.partition.fetch.bytes' = '${KAFKA_FETCH_PARTITION_BYTES}',
    'properties.linger.ms' = '${KAFKA_PRODUCER_LINGER_MS}',
    'properties.batch.size' = '${KAFKA_PRODUCER_BATCH_BYTES}',
    'properties.group.id' = '${KAFKA_GROUP_ID}',
    'properties.auto.offset.reset' = 'earliest',
    -- written in Flink transactions: read only committed ones (the client default reads aborted too)
    'properties.isolation.level' = 'read_committed',
    'scan.startup.mode' = 'group-offsets',
    'format' = 'json',
    'sink.delivery-guarantee' = 'exactly-once',
    'sink.transactional-id-prefix' = '${KAFKA_TRANSACTIONAL_ID_PREFIX}-room_push_ack_clean'
);
