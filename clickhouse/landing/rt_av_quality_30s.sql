-- topic: av_quality_30s
-- grain: one row per 30-second window x user x channel x classroom x uid x event (real-time); re-deliveries replace
create table if not exists rt.av_quality_30s_log
(
    start_time DateTime('Asia/Shanghai'),
    end_time DateTime('Asia/Shanghai'),
    user_id Int64,
    web_server_id Int64,
    classroom_id String,
    user_type LowCardinality(String),
    extra_uid Int64,
    event LowCardinality(String),
    event_sum Int64,
    event_avg Float64,
    event_count Int64,
    -- include: landed, kafka_provenance
)
engine = ReplacingMergeTree(processed_at)
partition by toDate(start_time)
order BY (start_time, classroom_id, user_id, web_server_id, extra_uid, event)
-- include: rt_retention, deduplicated_inserts
