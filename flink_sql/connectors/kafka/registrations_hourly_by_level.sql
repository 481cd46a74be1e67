-- Mart: distinct registered students per hour and level (upsert log keyed by reg_hour, level;
-- greatest version wins, is_deleted marks a vanished key).
CREATE TABLE registrations_hourly_by_level (
    reg_hour     INT,
    `level`      STRING,
    leads        BIGINT,
    `version`    BIGINT,
    is_deleted   TINYINT,
    processed_at TIMESTAMP_LTZ(3)
) WITH (
    'connector' = 'kafka',
    'topic' = 'registrations_hourly_by_level',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP_SERVERS}',
    'properties.linger.ms' = '${KAFKA_PRODUCER_LINGER_MS}',
    'properties.batch.size' = '${KAFKA_PRODUCER_BATCH_BYTES}',
    'format' = 'json',
    'sink.delivery-guarantee' = 'exactly-once',
    -- above checkpoint interval + restart: a killed job's open transaction is aborted on
    -- restore, or by the broker after this timeout (readers are read_committed)
    'properties.transaction.timeout.ms' = '${KAFKA_TRANSACTION_TIMEOUT_MS}',
    'sink.transactional-id-prefix' = '${KAFKA_TRANSACTIONAL_ID_PREFIX}-registrations_hourly_by_level'
);
