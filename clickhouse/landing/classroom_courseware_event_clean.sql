-- topic: classroom_courseware_event_clean
-- grain: one row per valid dynamic-courseware event (cleaned by Flink job clean_classroom_courseware_event)
create table if not exists ods.classroom_courseware_event_clean
(
    -- include: classroom_message
    action LowCardinality(String),
    origin LowCardinality(String),
    result LowCardinality(String),
    lag_ms Nullable(Int64),
    -- include: cleaned
)
-- include: classroom_message_storage
