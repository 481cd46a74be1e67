-- Mart: one row per PPT_SUCCESS with an earlier event in the look-back (insert-only).
CREATE TABLE recorded_course_enter_time (
    user_id      BIGINT,
    classroom_id STRING,
    user_type    STRING,
    spend_time   BIGINT,  -- ms
    event_time   STRING,
    create_time  STRING,
    processed_at TIMESTAMP_LTZ(3)
) WITH (
    'connector' = 'filesystem',
    'path' = '${TOPICS_DIR}/recorded_course_enter_time',
    'format' = 'json'
);
