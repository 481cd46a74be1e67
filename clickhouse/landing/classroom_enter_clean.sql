-- topic: classroom_enter_clean
-- grain: one row per valid room enter/leave attempt (cleaned by Flink job clean_classroom_enter)
create table if not exists ods.classroom_enter_clean
(
    -- include: classroom_message
    action LowCardinality(String),
    result Nullable(String),
    started_at Nullable(Int64),
    failed_component Nullable(String),
    -- include: cleaned
)
-- include: classroom_message_storage
