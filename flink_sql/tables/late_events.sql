-- Events a real-time window dropped because they arrived behind its watermark.
-- role: output
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
    source_offset BIGINT,  -- Kafka offset; NULL for files
    processed_at  TIMESTAMP_LTZ(3)
);
