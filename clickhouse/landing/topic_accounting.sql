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
    -- include: landed, kafka_provenance
)
ENGINE = ReplacingMergeTree(processed_at)
ORDER BY (topic, source_split, first_offset)
-- include: deduplicated_inserts
