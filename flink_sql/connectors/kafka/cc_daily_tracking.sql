-- Mart: confirmed orders per consultant and day (upsert log keyed by cc_id, type, attribution_date;
-- greatest version wins).
CREATE TABLE cc_daily_tracking (
    cc_id            BIGINT,
    cc_index         BIGINT,
    `type`           INT,
    attribution_date STRING,
    update_time      STRING,
    `version`        BIGINT,
    is_deleted       TINYINT,
    processed_at     TIMESTAMP_LTZ(3)
) WITH (
    'connector' = 'kafka',
    'topic' = 'cc_daily_tracking',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP_SERVERS}',
    'properties.linger.ms' = '${KAFKA_PRODUCER_LINGER_MS}',
    'properties.batch.size' = '${KAFKA_PRODUCER_BATCH_BYTES}',
    'format' = 'json',
    'sink.delivery-guarantee' = 'exactly-once',
    -- above checkpoint interval + restart: a killed job's open transaction is aborted on
    -- restore, or by the broker after this timeout (readers are read_committed)
    'properties.transaction.timeout.ms' = '${KAFKA_TRANSACTION_TIMEOUT_MS}',
    'sink.transactional-id-prefix' = '${KAFKA_TRANSACTIONAL_ID_PREFIX}-cc_daily_tracking'
);
