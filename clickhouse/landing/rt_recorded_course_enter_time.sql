-- topic: recorded_course_enter_time
-- grain: one row per PPT_SUCCESS with an earlier event in the look-back (real-time); re-deliveries replace
create table if not exists rt.recorded_course_enter_time_log
(
    user_id Int64,
    classroom_id String,
    user_type LowCardinality(String),
    spend_time Int64 comment 'ms',
    event_time DateTime64(3, 'Asia/Shanghai') comment 'session start (earliest event)',
    create_time DateTime64(3, 'Asia/Shanghai') comment 'the PPT_SUCCESS',
    -- include: landed, kafka_provenance
)
engine = ReplacingMergeTree(processed_at)
partition by toDate(create_time)
order BY (user_id, classroom_id, create_time)
-- include: rt_retention, deduplicated_inserts
