-- topic: room_heartbeat_clean
-- grain: one row per valid room heartbeat (enter, beat or leave), late ones included (cleaned by Flink job clean_room_heartbeat)
CREATE TABLE IF NOT EXISTS ods.room_heartbeat_clean
(
    message_key String COMMENT '<topic>|<partition>|<offset> of the source message (contract 1.1), written by the cleaning job: its offset travels only in the key',
    source_split String,
    bid Int64 COMMENT 'product',
    room_id String,
    uid Int64,
    terminal LowCardinality(String),
    kind LowCardinality(String) COMMENT 'enter | beat | leave',
    server_time Int64 COMMENT 'epoch ms, the event time (the heartbeat service clock)',
    -- include: cleaned, kafka_provenance
)
ENGINE = MergeTree
PARTITION BY toDate(intDiv(server_time, 1000), 'Asia/Shanghai')
ORDER BY (bid, room_id, uid, server_time)
-- include: deduplicated_inserts
