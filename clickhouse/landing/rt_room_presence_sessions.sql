-- topic: room_presence_sessions
-- grain: one row per presence session (real-time, from Flink, emitted once the watermark passed its end); re-deliveries replace
CREATE TABLE IF NOT EXISTS rt.room_presence_sessions_log
(
    bid Int64,
    room_id String,
    uid Int64,
    online_from String COMMENT 'business time zone, to the millisecond',
    online_to String,
    online_from_ms Int64,
    online_to_ms Int64,
    end_reason LowCardinality(String) COMMENT 'leave | timeout',
    terminals Int64,
    heartbeats Int64,
    -- include: landed, kafka_provenance
)
ENGINE = ReplacingMergeTree(processed_at)
PARTITION BY toDate(intDiv(online_from_ms, 1000), 'Asia/Shanghai')
ORDER BY (bid, room_id, uid, online_from_ms)
-- include: rt_retention, deduplicated_inserts
