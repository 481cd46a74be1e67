-- topic: uc_account_user_clean
-- grain: one row per valid user snapshot version (Flink job clean_uc_account_user)
CREATE TABLE IF NOT EXISTS ods.uc_account_user_clean
(
    source_split String,
    source_offset Nullable(Int64) COMMENT 'offset of the source message (NULL until the cleaning job carries it)',
    message_key Nullable(String) MATERIALIZED concat(replaceOne(source_split, '/', '|'), '|', toString(source_offset)) COMMENT '<topic>|<partition>|<offset> of the source message (contract 1.1); NULL while its offset is unknown',
    id String,
    name String,
    register_date_time String COMMENT 'YYYY-MM-DD HH:MM:SS, business time zone',
    status LowCardinality(String),
    update_time String,
    message_seq Int64,
    ingested_at DateTime64(3, 'UTC'),
    processed_at DateTime64(3, 'UTC'),
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3),
    kafka_topic LowCardinality(String) DEFAULT '' COMMENT 'provenance: the Kafka topic landed from (empty for files)',
    kafka_partition Int32 DEFAULT -1 COMMENT 'provenance: its partition (-1 for files)',
    kafka_offset Int64 DEFAULT -1 COMMENT 'provenance: its offset (-1 for files); landing dedups by the three'
)
ENGINE = MergeTree
ORDER BY (id, update_time)
SETTINGS non_replicated_deduplication_window = 10000
