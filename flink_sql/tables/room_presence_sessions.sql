-- Mart: one row per presence session of a user in a room (insert-only, emitted once the watermark
-- has passed the session's end). LIVE_CLASSROOM_CONTRACT.md B.3.
-- role: output
create table room_presence_sessions (
    bid bigint,
    room_id string,
    uid bigint,
    online_from string,  -- business time zone, to the millisecond
    online_to string,
    online_from_ms bigint,
    online_to_ms bigint,
    end_reason string,  -- leave | timeout
    terminals bigint,
    heartbeats bigint,
    processed_at timestamp_ltz(3)
);
