-- Dead letters: every rejected source message with its raw payload and the reason.
CREATE TABLE rejected_messages (
    topic         STRING,
    payload       STRING,  -- the raw message text
    reason        STRING,  -- malformed_json | missing_field | wrong_type | future_timestamp
    source_split  STRING,
    source_offset BIGINT,  -- Kafka offset; NULL for files
    ingested_at   TIMESTAMP_LTZ(3),
    processed_at  TIMESTAMP_LTZ(3)
) WITH (
    'connector' = 'kafka',
    'topic' = 'rejected_messages',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP_SERVERS}',
    'properties.linger.ms' = '${KAFKA_PRODUCER_LINGER_MS}',
    'properties.batch.size' = '${KAFKA_PRODUCER_BATCH_BYTES}',
    'format' = 'json',
    'sink.delivery-guarantee' = 'exactly-once',
    -- above checkpoint interval + restart: a killed job's open transaction is aborted on
    -- restore, or by the broker after this timeout (readers are read_committed)
    'properties.transaction.timeout.ms' = '${KAFKA_TRANSACTION_TIMEOUT_MS}',
    'sink.transactional-id-prefix' = '${KAFKA_TRANSACTIONAL_ID_PREFIX}-rejected_messages'
);
