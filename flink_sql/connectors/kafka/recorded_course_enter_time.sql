-- Mart: one row per PPT_SUCCESS with an earlier event in the look-back (insert-only).
CREATE TABLE recorded_course_enter_time (
    user_id      BIGINT,
    classroom_id STRING,
    user_type    STRING,
    spend_time   BIGINT,  -- ms
    event_time   STRING,
    create_time  STRING,
    processed_at TIMESTAMP_LTZ(3)
) WITH (
    'connector' = 'kafka',
    'topic' = 'recorded_course_enter_time',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP_SERVERS}',
    'properties.linger.ms' = '${KAFKA_PRODUCER_LINGER_MS}',
    'properties.batch.size' = '${KAFKA_PRODUCER_BATCH_BYTES}',
    'format' = 'json',
    'sink.delivery-guarantee' = 'exactly-once',
    -- above checkpoint interval + restart: a killed job's open transaction is aborted on
    -- restore, or by the broker after this timeout (readers are read_committed)
    'properties.transaction.timeout.ms' = '${KAFKA_TRANSACTION_TIMEOUT_MS}',
    'sink.transactional-id-prefix' = '${KAFKA_TRANSACTIONAL_ID_PREFIX}-recorded_course_enter_time'
);
