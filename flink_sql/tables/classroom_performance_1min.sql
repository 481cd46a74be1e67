-- Mart: student events per 1-minute event-time window (insert-only).
-- role: output
CREATE TABLE classroom_performance_1min (
    start_time   STRING,
    end_time     STRING,
    webserver_id BIGINT,
    user_id      BIGINT,
    `role`       INT,
    `event`      STRING,
    event_count  BIGINT,
    processed_at TIMESTAMP_LTZ(3)
);
