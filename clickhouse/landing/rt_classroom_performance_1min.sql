-- topic: classroom_performance_1min
-- grain: one row per 1-minute window x room x user x event (real-time, from Flink); re-deliveries replace
CREATE TABLE IF NOT EXISTS rt.classroom_performance_1min_log
(
    start_time DateTime('Asia/Shanghai'),
    end_time DateTime('Asia/Shanghai'),
    webserver_id Int64,
    user_id Int64,
    role Int32,
    event LowCardinality(String),
    event_count Int64,
    processed_at DateTime64(3, 'UTC'),
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3),
    kafka_topic LowCardinality(String) DEFAULT '' COMMENT 'provenance: the Kafka topic landed from (empty for files)',
    kafka_partition Int32 DEFAULT -1 COMMENT 'provenance: its partition (-1 for files)',
    kafka_offset Int64 DEFAULT -1 COMMENT 'provenance: its offset (-1 for files); landing dedups by the three'
)
ENGINE = ReplacingMergeTree(processed_at)
PARTITION BY toDate(start_time)
ORDER BY (start_time, webserver_id, user_id, role, event)
TTL toDateTime(landed_at) + INTERVAL 30 DAY  -- retention counts from landing, so replaying an old day keeps it
SETTINGS non_replicated_deduplication_window = 10000
