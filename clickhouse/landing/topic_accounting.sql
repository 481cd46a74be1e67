-- topic: topic_accounting
-- grain: one row per source topic split (Kafka partition) and run (first offset read): read, accepted, rejected
create table if not exists ods.topic_accounting_log
(
    topic LowCardinality(String),
    source_split String,
    first_offset Int64 comment 'the first offset of the split a job run counted from: runs add up',
    messages_read Int64,
    accepted Int64,
    rejected Int64,
    -- include: landed, kafka_provenance
)
engine = ReplacingMergeTree(processed_at)
order BY (topic, source_split, first_offset)
-- include: deduplicated_inserts
