-- topic: room_message_loss_daily
-- grain: one row per business day x bid x room x user x terminal; an upsert log (greatest version wins, is_deleted retracts)
create table if not exists rt.room_message_loss_daily_log
(
    day Date,
    bid Int64,
    room_id String,
    uid Int64,
    terminal LowCardinality(String),
    reports Int64,
    max_msgid Int64,
    gap_msgids Int64,
    lost_msgids Int64,
    gap_rate Float64,
    loss_rate Float64,
    version UInt64,
    is_deleted UInt8,
    -- include: landed, kafka_provenance
)
engine = ReplacingMergeTree(version, is_deleted)
partition by day
order BY (day, bid, room_id, uid, terminal)
-- include: rt_retention, deduplicated_inserts
