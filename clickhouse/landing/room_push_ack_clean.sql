-- topic: room_push_ack_clean
-- grain: one row per valid client push report (cleaned by Flink job clean_room_push_ack)
create table if not exists ods.room_push_ack_clean
(
    message_key String comment '<topic>|<partition>|<offset> of the source message (contract 1.1), written by the cleaning job: its offset travels only in the key',
    source_split String,
    bid Int64,
    room_id String,
    uid Int64,
    terminal LowCardinality(String),
    server_time Int64 comment 'epoch ms',
    max_msgid Int64 comment 'highest pushed msgid the client holds',
    missing_msgids Array(Int64) comment 'msgids below max_msgid the client still misses',
    missing_count Int32,
    message_seq Int64 comment 'position in its split: the later message wins a server_time tie',
    -- include: cleaned, kafka_provenance
)
engine = MergeTree
partition by toDate(intDiv(server_time, 1000), 'Asia/Shanghai')
order BY (bid, room_id, uid, terminal, server_time)
-- include: deduplicated_inserts
