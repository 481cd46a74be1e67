-- topic: room_concurrency_1min
-- grain: one row per room x minute with a user present (real-time, from Flink, once the watermark passed the minute); re-deliveries replace
create table if not exists rt.room_concurrency_1min_log
(
    start_time DateTime('Asia/Shanghai'),
    end_time DateTime('Asia/Shanghai'),
    start_time_ms Int64,
    bid Int64,
    room_id String,
    users_present Int64,
    peak_online Int64,
    sessions_started Int64,
    timeouts Int64,
    -- include: landed, kafka_provenance
)
engine = ReplacingMergeTree(processed_at)
partition by toDate(start_time)
order BY (start_time, bid, room_id)
-- include: rt_retention, deduplicated_inserts
