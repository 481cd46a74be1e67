-- Mart: one row per PPT_SUCCESS with an earlier event in the look-back (insert-only).
-- role: output
create table recorded_course_enter_time (
    user_id bigint,
    classroom_id string,
    user_type string,
    spend_time bigint,  -- ms
    event_time string,
    create_time string,
    processed_at timestamp_ltz(3)
);
