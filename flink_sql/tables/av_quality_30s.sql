-- Mart: student audio/video quality per 30-second event-time window (insert-only).
-- role: output
create table av_quality_30s (
    start_time string,
    end_time string,
    user_id bigint,
    web_server_id bigint,
    classroom_id string,
    user_type string,
    extra_uid bigint,
    `event` string,
    event_sum bigint,
    event_avg double,
    event_count bigint,
    processed_at timestamp_ltz(3)
);
