-- Mart: student audio/video quality per 30-second event-time window (insert-only).
CREATE TABLE av_quality_30s (
    start_time    STRING,
    end_time      STRING,
    user_id       BIGINT,
    web_server_id BIGINT,
    classroom_id  STRING,
    user_type     STRING,
    extra_uid     BIGINT,
    `event`       STRING,
    event_sum     BIGINT,
    event_avg     DOUBLE,
    event_count   BIGINT,
    processed_at  TIMESTAMP_LTZ(3)
) WITH (
    'connector' = 'kafka',
    'topic' = 'av_quality_30s',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP_SERVERS}',
    'properties.linger.ms' = '${KAFKA_PRODUCER_LINGER_MS}',
    'properties.batch.size' = '${KAFKA_PRODUCER_BATCH_BYTES}',
    'format' = 'json',
    'sink.delivery-guarantee' = 'exactly-once',
    -- above checkpoint interval + restart: a killed job's open transaction is aborted on
    -- restore, or by the broker after this timeout (readers are read_committed)
    'properties.transaction.timeout.ms' = '${KAFKA_TRANSACTION_TIMEOUT_MS}',
    'sink.transactional-id-prefix' = '${KAFKA_TRANSACTIONAL_ID_PREFIX}-av_quality_30s'
);
