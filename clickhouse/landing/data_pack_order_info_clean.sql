-- topic: data_pack_order_info_clean
-- grain: one row per valid consultant order version (Flink job clean_data_pack_order_info)
CREATE TABLE IF NOT EXISTS ods.data_pack_order_info_clean
(
    source_split String,
    source_offset Nullable(Int64) COMMENT 'offset of the source message (NULL until the cleaning job carries it)',
    message_key Nullable(String) MATERIALIZED concat(replaceOne(source_split, '/', '|'), '|', toString(source_offset)) COMMENT '<topic>|<partition>|<offset> of the source message (contract 1.1); NULL while its offset is unknown',
    id String,
    leads_flow_event_id Nullable(String),
    group_id Nullable(String),
    cc_id Int64,
    student_id Nullable(String),
    order_id Nullable(String),
    leads_id Nullable(String),
    confirm_date_time Nullable(String),
    create_time Nullable(String),
    update_time String,
    order_create_time Nullable(String),
    canceled_date_time Nullable(String),
    apply_refund_date Nullable(String),
    status Int32,
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
