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
    -- include: cleaned, kafka_provenance
)
ENGINE = MergeTree
PARTITION BY toDate(intDiv(server_time, 1000), 'Asia/Shanghai')
ORDER BY (bid, room_id, uid, terminal, server_time)
-- include: deduplicated_inserts
