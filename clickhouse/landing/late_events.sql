-- topic: late_events
-- grain: one row per event a real-time window dropped (it arrived behind the watermark)
CREATE TABLE IF NOT EXISTS ods.late_events
(
    mart LowCardinality(String),
    origin LowCardinality(String) DEFAULT 'stream' COMMENT 'stream: dropped by a real-time window (the only origin since the replay was removed) | replay',
    event_time String COMMENT 'business time zone',
    event_time_ms Int64,
    watermark_at Nullable(String),
    window_start Nullable(String),
    window_end Nullable(String),
    user_id Nullable(Int64),
    web_server_id Nullable(Int64),
    classroom_id Nullable(String),
    user_type Nullable(String),
    role Nullable(Int32),
    event Nullable(String),
    extra_uid Nullable(Int64),
    metric_value Nullable(Int64),
    source_split String,
    source_offset Nullable(Int64) COMMENT 'offset of the source message (NULL until the cleaning job carries it)',
    message_key Nullable(String) MATERIALIZED concat(replaceOne(source_split, '/', '|'), '|', toString(source_offset)) COMMENT '<topic>|<partition>|<offset> of the source message (contract 1.1); NULL while its offset is unknown',
    processed_at DateTime64(3, 'UTC'),
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3),
    kafka_topic LowCardinality(String) DEFAULT '' COMMENT 'provenance: the Kafka topic landed from (empty for files)',
    kafka_partition Int32 DEFAULT -1 COMMENT 'provenance: its partition (-1 for files)',
    kafka_offset Int64 DEFAULT -1 COMMENT 'provenance: its offset (-1 for files); landing dedups by the three'
)
ENGINE = MergeTree
PARTITION BY toDate(intDiv(event_time_ms, 1000), 'Asia/Shanghai')
ORDER BY (mart, event_time_ms)
SETTINGS non_replicated_deduplication_window = 10000
