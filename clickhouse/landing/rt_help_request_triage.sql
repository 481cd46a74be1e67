-- topic: help_request_triage
-- grain: one row per help request or detected ticket (LIVE_CLASSROOM_CONTRACT.md A.4); an upsert log (greatest version wins, is_deleted retracts)
create table if not exists rt.help_request_triage_log
(
    request_id String,
    source LowCardinality(String),
    room_id UInt64,
    user_id Int64,
    role LowCardinality(String),
    request_time Int64 comment 'epoch ms',
    received_time Int64,
    decided_at Int64,
    evidence_end Int64,
    outcome LowCardinality(String),
    category LowCardinality(String),
    action LowCardinality(String),
    target_user_id Int64,
    verify_start Nullable(Int64),
    verify_status LowCardinality(String),
    handle_ms Int64,
    version UInt64,
    is_deleted UInt8,
    -- include: room_dimensions, landed
)
engine = ReplacingMergeTree(version, is_deleted)
order by request_id
-- include: deduplicated_inserts
