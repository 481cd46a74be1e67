-- topic: cc_daily_tracking
-- grain: one row per consultant x type x confirm day; an upsert log (greatest version wins, is_deleted retracts)
create table if not exists rt.cc_daily_tracking_log
(
    cc_id Int64,
    cc_index Int64,
    type Int32,
    attribution_date Date,
    update_time String,
    version UInt64,
    is_deleted UInt8,
    -- include: landed, kafka_provenance
)
engine = ReplacingMergeTree(version, is_deleted)
order BY (cc_id, type, attribution_date)
-- include: deduplicated_inserts
