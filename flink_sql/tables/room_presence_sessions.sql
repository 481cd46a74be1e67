-- Mart: one row per presence session of a user in a room (insert-only, emitted once the watermark
-- has passed the session's end). LIVE_CLASSROOM_CONTRACT.md B.3.
-- role: output
CREATE TABLE room_presence_sessions (
    bid          BIGINT,
    room_id      STRING,
    uid          BIGINT,
    online_from  STRING,  -- business time zone, to the millisecond
    online_to    STRING,
    online_from_ms BIGINT,
    online_to_ms BIGINT,
    end_reason   STRING,  -- leave | timeout
    terminals    BIGINT,
    heartbeats   BIGINT,
    processed_at TIMESTAMP_LTZ(3)
);
