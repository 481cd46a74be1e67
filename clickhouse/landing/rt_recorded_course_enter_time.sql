-- topic: recorded_course_enter_time
-- grain: one row per PPT_SUCCESS with an earlier event in the look-back (real-time); re-deliveries replace
CREATE TABLE IF NOT EXISTS rt.recorded_course_enter_time_log
(
    user_id Int64,
    classroom_id String,
    user_type LowCardinality(String),
    spend_time Int64 COMMENT 'ms',
    event_time DateTime64(3, 'Asia/Shanghai') COMMENT 'session start (earliest event)',
    create_time DateTime64(3, 'Asia/Shanghai') COMMENT 'the PPT_SUCCESS',
    -- include: landed, kafka_provenance
)
ENGINE = ReplacingMergeTree(processed_at)
PARTITION BY toDate(create_time)
ORDER BY (user_id, classroom_id, create_time)
-- include: rt_retention, deduplicated_inserts
