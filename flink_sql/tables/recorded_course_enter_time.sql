-- Mart: one row per PPT_SUCCESS with an earlier event in the look-back (insert-only).
-- role: output
CREATE TABLE recorded_course_enter_time (
    user_id      BIGINT,
    classroom_id STRING,
    user_type    STRING,
    spend_time   BIGINT,  -- ms
    event_time   STRING,
    create_time  STRING,
    processed_at TIMESTAMP_LTZ(3)
);
