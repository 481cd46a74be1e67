-- Events a real-time window dropped because they arrived behind its watermark.
-- role: output
create table late_events (
    mart string,
    event_time string,  -- business time zone
    event_time_ms bigint,
    watermark_at string,  -- the watermark the event was at or behind
    window_start string,  -- the window it belonged to (windowed marts)
    window_end string,
    user_id bigint,
    web_server_id bigint,  -- roomId / agora_channel_id
    classroom_id string,
    user_type string,
    `role` int,
    `event` string,
    extra_uid bigint,
    metric_value bigint,  -- lost / fr for av_quality_30s
    source_split string,
    source_offset bigint,  -- Kafka offset; NULL for files
    processed_at timestamp_ltz(3)
);
