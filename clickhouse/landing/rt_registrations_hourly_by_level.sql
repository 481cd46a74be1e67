-- topic: registrations_hourly_by_level
-- grain: one row per registration hour x level; an upsert log (greatest version wins, is_deleted retracts)
create table if not exists rt.registrations_hourly_by_level_log
(
    reg_hour UInt32 comment 'YYYYMMDDHH, business time zone',
    level LowCardinality(String),
    leads Int64,
    version UInt64,
    is_deleted UInt8,
    -- include: landed, kafka_provenance
)
engine = ReplacingMergeTree(version, is_deleted)
order BY (reg_hour, level)
-- include: deduplicated_inserts
