-- topic: recorded_course_enter_time
-- grain: one row per PPT_SUCCESS with an earlier event in the look-back (real-time); re-deliveries replace
CREATE TABLE IF NOT EXISTS rt.recorded_course_enter_time_log
(
    user_id Int64,
    classroom_id String,
    user_type LowCardinality(String),
    spend_time Int64 COMMENT 'ms',
    event_time DateTime64(3, 'Asia/Shanghai') COMMENT 'session start (earliest event)',
    create_time DateTime64(3, 'Asia/Shanghai') COMMENT 'the PPT_SUCCESS',
    processed_at DateTime64(3, 'UTC'),
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3),
    kafka_topic LowCardinality(String) DEFAULT '' COMMENT 'provenance: the Kafka topic landed from (empty for files)',
    kafka_partition Int32 DEFAULT -1 COMMENT 'provenance: its partition (-1 for files)',
    kafka_offset Int64 DEFAULT -1 COMMENT 'provenance: its offset (-1 for files); landing dedups by the three'
)
ENGINE = ReplacingMergeTree(processed_at)
PARTITION BY toDate(create_time)
ORDER BY (user_id, classroom_id, create_time)
TTL toDateTime(landed_at) + INTERVAL 30 DAY  -- retention counts from landing, so replaying an old day keeps it
SETTINGS non_replicated_deduplication_window = 10000
