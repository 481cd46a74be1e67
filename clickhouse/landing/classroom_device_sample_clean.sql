-- topic: classroom_device_sample_clean
-- grain: one row per valid device sample (cleaned by Flink job clean_classroom_device_sample)
CREATE TABLE IF NOT EXISTS ods.classroom_device_sample_clean
(
    source_split String,
    source_offset Nullable(Int64) COMMENT 'Kafka offset; NULL for files',
    message_key Nullable(String) MATERIALIZED concat(replaceOne(source_split, '/', '|'), '|', toString(source_offset)) COMMENT '<topic>|<partition>|<offset> of the source message (contract 1.1); NULL while its offset is unknown',
    room_id UInt64,
    user_id Int64,
    role LowCardinality(String),
    client_time Int64 COMMENT 'epoch ms, the event time',
    server_time Int64 COMMENT 'epoch ms, receive time',
    mic LowCardinality(String),
    speaker LowCardinality(String),
    camera LowCardinality(String),
    cpu_pct Int64,
    ingested_at DateTime64(3, 'UTC'),
    processed_at DateTime64(3, 'UTC'),
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toDate(intDiv(client_time, 1000), 'Asia/Shanghai')
ORDER BY (room_id, user_id, client_time)
SETTINGS non_replicated_deduplication_window = 10000
