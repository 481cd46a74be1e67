-- Per source split and run: messages read, accepted, rejected (upsert log; the row with the
-- greatest messages_read per (topic, source_split, first_offset) is current; runs add up).
CREATE TABLE topic_accounting (
    topic         STRING,
    source_split  STRING,
    first_offset  BIGINT,
    messages_read BIGINT,
    accepted      BIGINT,
    rejected      BIGINT,
    processed_at  TIMESTAMP_LTZ(3)
) WITH (
    'connector' = 'kafka',
    'topic' = 'topic_accounting',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP_SERVERS}',
    'properties.linger.ms' = '${KAFKA_PRODUCER_LINGER_MS}',
    'properties.batch.size' = '${KAFKA_PRODUCER_BATCH_BYTES}',
    'format' = 'json',
    'sink.delivery-guarantee' = 'exactly-once',
    -- above checkpoint interval + restart: a killed job's open transaction is aborted on
    -- restore, or by the broker after this timeout (readers are read_committed)
    'properties.transaction.timeout.ms' = '${KAFKA_TRANSACTION_TIMEOUT_MS}',
    'sink.transactional-id-prefix' = '${KAFKA_TRANSACTIONAL_ID_PREFIX}-topic_accounting'
);
