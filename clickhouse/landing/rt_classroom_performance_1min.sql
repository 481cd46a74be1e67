-- topic: classroom_performance_1min
-- grain: one row per 1-minute window x room x user x event (real-time, from Flink); re-deliveries replace
create table if not exists rt.classroom_performance_1min_log
(
    start_time DateTime('Asia/Shanghai'),
    end_time DateTime('Asia/Shanghai'),
    webserver_id Int64,
    user_id Int64,
    role Int32,
    event LowCardinality(String),
    event_count Int64,
    -- include: landed, kafka_provenance
)
engine = ReplacingMergeTree(processed_at)
partition by toDate(start_time)
order BY (start_time, webserver_id, user_id, role, event)
-- include: rt_retention, deduplicated_inserts
