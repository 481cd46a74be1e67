-- topic: room_push_ack_clean
-- grain: one row per valid client push report (cleaned by Flink job clean_room_push_ack)
CREATE TABLE IF NOT EXISTS ods.room_push_ack_clean
(
    message_key String COMMENT '<topic>|<partition>|<offset> of the source message (contract 1.1), written by the cleaning job: its offset travels only in the key',
    source_split String,
    bid Int64,
    room_id String,
    uid Int64,
    terminal LowCardinality(String),
    server_time Int64 COMMENT 'epoch ms',
    max_msgid Int64 COMMENT 'highest pushed msgid the client holds',
    missing_msgids Array(Int64) COMMENT 'msgids below max_msgid the client still misses',
    missing_count Int32,
    message_seq Int64 COMMENT 'position in its split: the later message wins a server_time tie',
    ingested_at DateTime64(3, 'UTC'),
    processed_at DateTime64(3, 'UTC'),
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3),
    kafka_topic LowCardinality(String) DEFAULT '' COMMENT 'provenance: the Kafka topic landed from (empty for files)',
    kafka_partition Int32 DEFAULT -1 COMMENT 'provenance: its partition (-1 for files)',
    kafka_offset Int64 DEFAULT -1 COMMENT 'provenance: its offset (-1 for files); landing dedups by the three'
)
ENGINE = MergeTree
PARTITION BY toDate(intDiv(server_time, 1000), 'Asia/Shanghai')
ORDER BY (bid, room_id, uid, terminal, server_time)
SETTINGS non_replicated_deduplication_window = 10000
