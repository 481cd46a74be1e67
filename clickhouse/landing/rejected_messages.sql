-- topic: rejected_messages
-- grain: one row per rejected source message, with its raw payload and the reason
CREATE TABLE IF NOT EXISTS ods.rejected_messages
(
    topic LowCardinality(String),
    payload String COMMENT 'the raw message text',
    reason LowCardinality(String) COMMENT 'malformed_json | missing_field | wrong_type | future_timestamp',
    source_split String,
    source_offset Nullable(Int64) COMMENT 'Kafka offset; NULL for files',
    message_key Nullable(String) MATERIALIZED concat(replaceOne(source_split, '/', '|'), '|', toString(source_offset)) COMMENT '<topic>|<partition>|<offset> of the source message (contract 1.1); NULL while its offset is unknown',
    ingested_at DateTime64(3, 'UTC'),
    processed_at DateTime64(3, 'UTC'),
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3),
    kafka_topic LowCardinality(String) DEFAULT '' COMMENT 'provenance: the Kafka topic landed from (empty for files)',
    kafka_partition Int32 DEFAULT -1 COMMENT 'provenance: its partition (-1 for files)',
    kafka_offset Int64 DEFAULT -1 COMMENT 'provenance: its offset (-1 for files); landing dedups by the three'
)
ENGINE = MergeTree
PARTITION BY toDate(processed_at, 'Asia/Shanghai')
ORDER BY (topic, reason, processed_at)
TTL toDateTime(processed_at) + INTERVAL 90 DAY
SETTINGS non_replicated_deduplication_window = 10000
