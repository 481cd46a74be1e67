-- topic: classroom_device_sample_clean
-- grain: one row per valid device sample (cleaned by Flink job clean_classroom_device_sample)
create table if not exists ods.classroom_device_sample_clean
(
    -- include: classroom_message
    mic LowCardinality(String),
    speaker LowCardinality(String),
    camera LowCardinality(String),
    cpu_pct Int64,
    -- include: cleaned
)
-- include: classroom_message_storage
