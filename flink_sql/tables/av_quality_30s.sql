-- Mart: student audio/video quality per 30-second event-time window (insert-only).
-- role: output
CREATE TABLE av_quality_30s (
    start_time    STRING,
    end_time      STRING,
    user_id       BIGINT,
    web_server_id BIGINT,
    classroom_id  STRING,
    user_type     STRING,
    extra_uid     BIGINT,
    `event`       STRING,
    event_sum     BIGINT,
    event_avg     DOUBLE,
    event_count   BIGINT,
    processed_at  TIMESTAMP_LTZ(3)
);
