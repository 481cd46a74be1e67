-- topic: room_heartbeat_clean
-- grain: one row per valid room heartbeat (enter, beat or leave), late ones included (cleaned by Flink job clean_room_heartbeat)
create table if not exists ods.room_heartbeat_clean
(
    message_key String comment '<topic>|<partition>|<offset> of the source message (contract 1.1), written by the cleaning job: its offset travels only in the key',
    source_split String,
    bid Int64 comment 'product',
    room_id String,
    uid Int64,
    terminal LowCardinality(String),
    kind LowCardinality(String) comment 'enter | beat | leave',
    server_time Int64 comment 'epoch ms, the event time (the heartbeat service clock)',
    -- include: cleaned, kafka_provenance
)
engine = MergeTree
partition by toDate(intDiv(server_time, 1000), 'Asia/Shanghai')
order BY (bid, room_id, uid, server_time)
-- include: deduplicated_inserts
