-- topic: room_concurrency_1min
-- grain: one row per room x minute with a user present (real-time, from Flink, once the watermark passed the minute); re-deliveries replace
CREATE TABLE IF NOT EXISTS rt.room_concurrency_1min_log
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
    processed_at DateTime64(3, 'UTC'),
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3),
    kafka_topic LowCardinality(String) DEFAULT '' COMMENT 'provenance: the Kafka topic landed from (empty for files)',
    kafka_partition Int32 DEFAULT -1 COMMENT 'provenance: its partition (-1 for files)',
    kafka_offset Int64 DEFAULT -1 COMMENT 'provenance: its offset (-1 for files); landing dedups by the three'
)
ENGINE = ReplacingMergeTree(processed_at)
PARTITION BY toDate(start_time)
ORDER BY (start_time, bid, room_id)
TTL toDateTime(landed_at) + INTERVAL 30 DAY  -- retention counts from landing, so replaying an old day keeps it
SETTINGS non_replicated_deduplication_window = 10000
