-- topic: rejected_messages
-- grain: one row per rejected source message, with its raw payload and the reason
CREATE TABLE IF NOT EXISTS ods.rejected_messages
(
    topic LowCardinality(String),
    payload String COMMENT 'the raw message text',
    reason LowCardinality(String) COMMENT 'malformed_json | missing_field | wrong_type | future_timestamp',
    -- include: source_message
    -- include: cleaned, kafka_provenance
)
ENGINE = MergeTree
PARTITION BY toDate(processed_at, 'Asia/Shanghai')
ORDER BY (topic, reason, processed_at)
TTL toDateTime(processed_at) + INTERVAL 90 DAY
-- include: deduplicated_inserts
