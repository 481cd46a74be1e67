-- topic: room_presence_sessions
-- grain: one row per presence session (real-time, from Flink, emitted once the watermark passed its end); re-deliveries replace
create table if not exists rt.room_presence_sessions_log
(
    bid Int64,
    room_id String,
    uid Int64,
    online_from String comment 'business time zone, to the millisecond',
    online_to String,
    online_from_ms Int64,
    online_to_ms Int64,
    end_reason LowCardinality(String) comment 'leave | timeout',
    terminals Int64,
    heartbeats Int64,
    -- include: landed, kafka_provenance
)
engine = ReplacingMergeTree(processed_at)
partition by toDate(intDiv(online_from_ms, 1000), 'Asia/Shanghai')
order BY (bid, room_id, uid, online_from_ms)
-- include: rt_retention, deduplicated_inserts
