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
    processed_at DateTime64(3, 'UTC'),
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3),
    kafka_topic LowCardinality(String) DEFAULT '' COMMENT 'provenance: the Kafka topic landed from (empty for files)',
    kafka_partition Int32 DEFAULT -1 COMMENT 'provenance: its partition (-1 for files)',
    kafka_offset Int64 DEFAULT -1 COMMENT 'provenance: its offset (-1 for files); landing dedups by the three'
)
ENGINE = ReplacingMergeTree(processed_at)
PARTITION BY toDate(intDiv(online_from_ms, 1000), 'Asia/Shanghai')
ORDER BY (bid, room_id, uid, online_from_ms)
TTL toDateTime(landed_at) + INTERVAL 30 DAY  -- retention counts from landing, so replaying an old day keeps it
SETTINGS non_replicated_deduplication_window = 10000
