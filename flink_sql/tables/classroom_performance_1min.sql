-- Mart: student events per 1-minute event-time window (insert-only).
-- role: output
create table classroom_performance_1min (
    start_time string,
    end_time string,
    webserver_id bigint,
    user_id bigint,
    `role` int,
    `event` string,
    event_count bigint,
    processed_at timestamp_ltz(3)
);
