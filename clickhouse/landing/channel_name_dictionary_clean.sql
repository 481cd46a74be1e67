-- topic: channel_name_dictionary_clean
-- grain: one row per valid channel dictionary version (Flink job clean_channel_name_dictionary)
CREATE TABLE IF NOT EXISTS ods.channel_name_dictionary_clean
(
    source_split String,
    source_offset Nullable(Int64) COMMENT 'offset of the source message (NULL until the cleaning job carries it)',
    message_key Nullable(String) MATERIALIZED concat(replaceOne(source_split, '/', '|'), '|', toString(source_offset)) COMMENT '<topic>|<partition>|<offset> of the source message (contract 1.1); NULL while its offset is unknown',
    id String,
    chinese_name String,
    english_name String,
    level LowCardinality(String),
    pid String,
    create_time String,
    update_time String,
    dept_id String,
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
