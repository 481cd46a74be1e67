-- topic: room_message_loss_daily
-- grain: one row per business day x bid x room x user x terminal; an upsert log (greatest version wins, is_deleted retracts)
CREATE TABLE IF NOT EXISTS rt.room_message_loss_daily_log
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
    processed_at DateTime64(3, 'UTC'),
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3),
    kafka_topic LowCardinality(String) DEFAULT '' COMMENT 'provenance: the Kafka topic landed from (empty for files)',
    kafka_partition Int32 DEFAULT -1 COMMENT 'provenance: its partition (-1 for files)',
    kafka_offset Int64 DEFAULT -1 COMMENT 'provenance: its offset (-1 for files); landing dedups by the three'
)
ENGINE = ReplacingMergeTree(version, is_deleted)
PARTITION BY day
ORDER BY (day, bid, room_id, uid, terminal)
TTL toDateTime(landed_at) + INTERVAL 30 DAY  -- retention counts from landing, so replaying an old day keeps it
SETTINGS non_replicated_deduplication_window = 10000
