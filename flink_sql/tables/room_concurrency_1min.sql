-- Mart: users present, peak online, sessions started and timeouts per room and minute
-- (insert-only, written once the watermark passes the minute's end). LIVE_CLASSROOM_CONTRACT.md B.3.
-- role: output
create table room_concurrency_1min (
    start_time string,  -- business time zone, minute start
    end_time string,
    start_time_ms bigint,
    bid bigint,
    room_id string,
    users_present bigint,
    peak_online bigint,
    sessions_started bigint,
    timeouts bigint,
    processed_at timestamp_ltz(3)
);
