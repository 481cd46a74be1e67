-- topic: qos_log_clean
-- grain: one row per valid recorded-course client log message (Flink job clean_qos_log)
CREATE TABLE IF NOT EXISTS ods.qos_log_clean
(
    source_split String,
    source_offset Nullable(Int64) COMMENT 'offset of the source message (NULL until the cleaning job carries it)',
    message_key Nullable(String) MATERIALIZED concat(replaceOne(source_split, '/', '|'), '|', toString(source_offset)) COMMENT '<topic>|<partition>|<offset> of the source message (contract 1.1); NULL while its offset is unknown',
    classroom_id String,
    user_type LowCardinality(String),
    user_id Int64,
    event_time Int64 COMMENT 'epoch ms',
    sub_event LowCardinality(String),
    data_time Int64 COMMENT 'extra.data_time, epoch ms',
    ppt_index Nullable(Int64),
    ingested_at DateTime64(3, 'UTC'),
    processed_at DateTime64(3, 'UTC'),
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3),
    kafka_topic LowCardinality(String) DEFAULT '' COMMENT 'provenance: the Kafka topic landed from (empty for files)',
    kafka_partition Int32 DEFAULT -1 COMMENT 'provenance: its partition (-1 for files)',
    kafka_offset Int64 DEFAULT -1 COMMENT 'provenance: its offset (-1 for files); landing dedups by the three'
)
ENGINE = MergeTree
PARTITION BY toDate(intDiv(data_time, 1000), 'Asia/Shanghai')
ORDER BY (user_id, classroom_id, data_time)
SETTINGS non_replicated_deduplication_window = 10000
