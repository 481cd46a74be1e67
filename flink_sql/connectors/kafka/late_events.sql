-- Events a real-time window dropped because they arrived behind its watermark.
CREATE TABLE late_events (
    mart          STRING,
    event_time    STRING,  -- business time zone
    event_time_ms BIGINT,
    watermark_at  STRING,  -- the watermark the event was at or behind
    window_start  STRING,  -- the window it belonged to (windowed marts)
    window_end    STRING,
    user_id       BIGINT,
    web_server_id BIGINT,  -- roomId / agora_channel_id
    classroom_id  STRING,
    user_type     STRING,
    `role`        INT,
    `event`       STRING,
    extra_uid     BIGINT,
    metric_value  BIGINT,  -- lost / fr for av_quality_30s
    source_split  STRING,
    processed_at  TIMESTAMP_LTZ(3)
) WITH (
    'connector' = 'kafka',
    'topic' = 'late_events',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP_SERVERS}',
    'properties.linger.ms' = '${KAFKA_PRODUCER_LINGER_MS}',
    'properties.batch.size' = '${KAFKA_PRODUCER_BATCH_BYTES}',
    'format' = 'json',
    'sink.delivery-guarantee' = 'exactly-once',
    -- above checkpoint interval + restart: a killed job's open transaction is aborted on
    -- restore, or by the broker after this timeout (readers are read_committed)
    'properties.transaction.timeout.ms' = '${KAFKA_TRANSACTION_TIMEOUT_MS}',
    'sink.transactional-id-prefix' = '${KAFKA_TRANSACTIONAL_ID_PREFIX}-late_events'
);
