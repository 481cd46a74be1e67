-- topic: agora_record_clean
-- grain: one row per valid audio/video quality record (cleaned by Flink job clean_agora_record)
CREATE TABLE IF NOT EXISTS ods.agora_record_clean
(
    source_split String,
    source_offset Nullable(Int64) COMMENT 'offset of the source message (NULL until the cleaning job carries it)',
    message_key Nullable(String) MATERIALIZED concat(replaceOne(source_split, '/', '|'), '|', toString(source_offset)) COMMENT '<topic>|<partition>|<offset> of the source message (contract 1.1); NULL while its offset is unknown',
    classroom_id Nullable(String),
    user_type LowCardinality(String),
    user_id Nullable(Int64),
    agora_channel_id Nullable(Int64),
    event LowCardinality(String),
    video_fr Nullable(Int64),
    video_uid Nullable(Int64),
    audio_lost Nullable(Int64),
    audio_uid Nullable(Int64),
    message_create_time Int64 COMMENT 'epoch ms, the event time',
    ingested_at DateTime64(3, 'UTC'),
    processed_at DateTime64(3, 'UTC'),
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3),
    kafka_topic LowCardinality(String) DEFAULT '' COMMENT 'provenance: the Kafka topic landed from (empty for files)',
    kafka_partition Int32 DEFAULT -1 COMMENT 'provenance: its partition (-1 for files)',
    kafka_offset Int64 DEFAULT -1 COMMENT 'provenance: its offset (-1 for files); landing dedups by the three'
)
ENGINE = MergeTree
PARTITION BY toDate(intDiv(message_create_time, 1000), 'Asia/Shanghai')
ORDER BY (user_type, message_create_time)
SETTINGS non_replicated_deduplication_window = 10000
