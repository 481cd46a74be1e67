-- topic: late_events
-- grain: one row per event a real-time window dropped (it arrived behind the watermark)
create table if not exists ods.late_events
(
    mart LowCardinality(String),
    origin LowCardinality(String) default 'stream' comment 'stream: dropped by a real-time window (the only origin since the replay was removed) | replay',
    event_time String comment 'business time zone',
    event_time_ms Int64,
    watermark_at Nullable(String),
    window_start Nullable(String),
    window_end Nullable(String),
    user_id Nullable(Int64),
    web_server_id Nullable(Int64),
    classroom_id Nullable(String),
    user_type Nullable(String),
    role Nullable(Int32),
    event Nullable(String),
    extra_uid Nullable(Int64),
    metric_value Nullable(Int64),
    -- include: source_message, landed, kafka_provenance
)
engine = MergeTree
partition by toDate(intDiv(event_time_ms, 1000), 'Asia/Shanghai')
order BY (mart, event_time_ms)
-- include: deduplicated_inserts
