-- topic: registrations_hourly_by_level
-- grain: one row per registration hour x level; an upsert log (greatest version wins, is_deleted retracts)
CREATE TABLE IF NOT EXISTS rt.registrations_hourly_by_level_log
(
    reg_hour UInt32 COMMENT 'YYYYMMDDHH, business time zone',
    level LowCardinality(String),
    leads Int64,
    version UInt64,
    is_deleted UInt8,
    processed_at DateTime64(3, 'UTC'),
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3),
    kafka_topic LowCardinality(String) DEFAULT '' COMMENT 'provenance: the Kafka topic landed from (empty for files)',
    kafka_partition Int32 DEFAULT -1 COMMENT 'provenance: its partition (-1 for files)',
    kafka_offset Int64 DEFAULT -1 COMMENT 'provenance: its offset (-1 for files); landing dedups by the three'
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (reg_hour, level)
SETTINGS non_replicated_deduplication_window = 10000
