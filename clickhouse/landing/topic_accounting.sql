-- topic: topic_accounting
-- grain: one row per source topic split (Kafka partition) and run (first offset read): read, accepted, rejected
CREATE TABLE IF NOT EXISTS ods.topic_accounting_log
(
    topic LowCardinality(String),
    source_split String,
    first_offset Int64 COMMENT 'the first offset of the split a job run counted from: runs add up',
    messages_read Int64,
    accepted Int64,
    rejected Int64,
    processed_at DateTime64(3, 'UTC'),
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3),
    kafka_topic LowCardinality(String) DEFAULT '' COMMENT 'provenance: the Kafka topic landed from (empty for files)',
    kafka_partition Int32 DEFAULT -1 COMMENT 'provenance: its partition (-1 for files)',
    kafka_offset Int64 DEFAULT -1 COMMENT 'provenance: its offset (-1 for files); landing dedups by the three'
)
ENGINE = ReplacingMergeTree(processed_at)
ORDER BY (topic, source_split, first_offset)
SETTINGS non_replicated_deduplication_window = 10000
