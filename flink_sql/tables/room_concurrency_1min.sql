-- Mart: users present, peak online, sessions started and timeouts per room and minute
-- (insert-only, written once the watermark passes the minute's end). LIVE_CLASSROOM_CONTRACT.md B.3.
-- role: output
CREATE TABLE room_concurrency_1min (
    start_time       STRING,  -- business time zone, minute start
    end_time         STRING,
    start_time_ms    BIGINT,
    bid              BIGINT,
    room_id          STRING,
    users_present    BIGINT,
    peak_online      BIGINT,
    sessions_started BIGINT,
    timeouts         BIGINT,
    processed_at     TIMESTAMP_LTZ(3)
);
