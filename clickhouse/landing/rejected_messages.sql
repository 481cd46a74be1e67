-- topic: rejected_messages
-- grain: one row per rejected source message, with its raw payload and the reason
create table if not exists ods.rejected_messages
(
    topic LowCardinality(String),
    payload String comment 'the raw message text',
    reason LowCardinality(String) comment 'malformed_json | missing_field | wrong_type | future_timestamp',
    -- include: source_message
    -- include: cleaned, kafka_provenance
)
engine = MergeTree
partition by toDate(processed_at, 'Asia/Shanghai')
order BY (topic, reason, processed_at)
ttl toDateTime(processed_at) + interval 90 day
-- include: deduplicated_inserts
