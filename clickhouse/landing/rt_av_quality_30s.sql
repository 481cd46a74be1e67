-- topic: av_quality_30s
-- grain: one row per 30-second window x user x channel x classroom x uid x event (real-time); re-deliveries replace
CREATE TABLE IF NOT EXISTS rt.av_quality_30s_log
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
    processed_at DateTime64(3, 'UTC'),
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3),
    kafka_topic LowCardinality(String) DEFAULT '' COMMENT 'provenance: the Kafka topic landed from (empty for files)',
    kafka_partition Int32 DEFAULT -1 COMMENT 'provenance: its partition (-1 for files)',
    kafka_offset Int64 DEFAULT -1 COMMENT 'provenance: its offset (-1 for files); landing dedups by the three'
)
ENGINE = ReplacingMergeTree(processed_at)
PARTITION BY toDate(start_time)
ORDER BY (start_time, classroom_id, user_id, web_server_id, extra_uid, event)
TTL toDateTime(landed_at) + INTERVAL 30 DAY  -- retention counts from landing, so replaying an old day keeps it
SETTINGS non_replicated_deduplication_window = 10000
