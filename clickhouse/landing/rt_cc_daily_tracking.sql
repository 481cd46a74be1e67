-- topic: cc_daily_tracking
-- grain: one row per consultant x type x confirm day; an upsert log (greatest version wins, is_deleted retracts)
CREATE TABLE IF NOT EXISTS rt.cc_daily_tracking_log
(
    cc_id Int64,
    cc_index Int64,
    type Int32,
    attribution_date Date,
    update_time String,
    version UInt64,
    is_deleted UInt8,
    processed_at DateTime64(3, 'UTC'),
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3),
    kafka_topic LowCardinality(String) DEFAULT '' COMMENT 'provenance: the Kafka topic landed from (empty for files)',
    kafka_partition Int32 DEFAULT -1 COMMENT 'provenance: its partition (-1 for files)',
    kafka_offset Int64 DEFAULT -1 COMMENT 'provenance: its offset (-1 for files); landing dedups by the three'
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (cc_id, type, attribution_date)
SETTINGS non_replicated_deduplication_window = 10000
