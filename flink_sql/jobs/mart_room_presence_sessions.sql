-- Presence sessions: maximal intervals during which a user is online in a room on any terminal,
-- and from the same coverage the concurrency per room and minute. Grain: bid x room_id x uid x
-- online_from (room_presence_sessions, written once the watermark has passed the session's end)
-- and bid x room_id x minute (room_concurrency_1min, written once it passes the minute's end).
-- Rule: LIVE_CLASSROOM_CONTRACT.md B.2/B.3 (seed 002: a user times out only when every terminal
-- and node agrees). Sinks: both marts, late_events, mart_accounting.

-- Late routing as in mart_classroom_performance_1min: a heartbeat at or behind the watermark when
-- it arrives goes to late_events (mart room_presence_sessions), the others to the sessions.
CREATE TEMPORARY VIEW presence_events AS
SELECT
    *,
    COALESCE(event_at <= CURRENT_WATERMARK(event_at), FALSE) AS is_late,
    CURRENT_WATERMARK(event_at) AS watermark_at
FROM room_heartbeat_clean;

-- One process table function per user (jvm/udf PresenceTracker, rules in UserPresence) replaces
-- a join of beats with leaves and a chain of windows: it buffers the user's heartbeats until the
-- watermark passes them, applies them in event-time order keeping per terminal only its coverage
-- end, and emits each session when the watermark passes online_to and each session's piece of a
-- minute when it is final (at the session's end or the minute's end). Rows are timed (rowtime)
-- at that instant, so the minute aggregate below closes with the same watermark.
CREATE TEMPORARY VIEW presence_counted AS
SELECT bid, room_id, uid, terminal, kind, server_time, event_at
FROM presence_events
WHERE NOT is_late;

CREATE TEMPORARY VIEW presence_rows AS
SELECT *
FROM presence_tracker(
    input => TABLE presence_counted PARTITION BY (bid, room_id, uid),
    on_time => DESCRIPTOR(event_at),
    timeout_ms => CAST(${PRESENCE_TIMEOUT_SECONDS} * 1000 AS BIGINT),
    uid => 'room_presence_tracker'
);

INSERT INTO room_presence_sessions
SELECT
    bid, room_id, uid,
    DATE_FORMAT(TO_TIMESTAMP_LTZ(online_from, 3), 'yyyy-MM-dd HH:mm:ss.SSS'),
    DATE_FORMAT(TO_TIMESTAMP_LTZ(online_to, 3), 'yyyy-MM-dd HH:mm:ss.SSS'),
    online_from,
    online_to,
    end_reason,
    terminals,
    heartbeats,
    CURRENT_TIMESTAMP
FROM presence_rows
WHERE row_kind = 'session';

-- Per room and minute m over the pieces, which are timed in (m, m + 60 s] (at the session's end
-- or m + 60 s): a tumble shifted by 1 ms closes when the watermark reaches m + 60 s. peak_online
-- sweeps the pieces (a user's sessions never overlap nor touch, so the overlap counts users).
CREATE TEMPORARY VIEW presence_pieces AS
SELECT * FROM presence_rows WHERE row_kind = 'piece';

CREATE TEMPORARY VIEW presence_concurrency AS
SELECT
    bid, room_id, minute_ms,
    COUNT(DISTINCT uid) AS users_present,
    max_overlap(piece_from, piece_to) AS peak_online,
    COUNT(*) FILTER (WHERE is_start) AS sessions_started,
    COUNT(*) FILTER (WHERE is_timeout) AS timeouts
FROM TABLE(TUMBLE(
    TABLE presence_pieces, DESCRIPTOR(rowtime),
    INTERVAL '1' MINUTE, INTERVAL '0.001' SECOND))
GROUP BY bid, room_id, minute_ms, window_start, window_end;

INSERT INTO room_concurrency_1min
SELECT
    DATE_FORMAT(TO_TIMESTAMP_LTZ(minute_ms, 3), 'yyyy-MM-dd HH:mm:ss'),
    DATE_FORMAT(TO_TIMESTAMP_LTZ(minute_ms + 60000, 3), 'yyyy-MM-dd HH:mm:ss'),
    minute_ms,
    bid, room_id, users_present, peak_online, sessions_started, timeouts,
    CURRENT_TIMESTAMP
FROM presence_concurrency;

INSERT INTO late_events
SELECT
    'room_presence_sessions',
    DATE_FORMAT(event_at, 'yyyy-MM-dd HH:mm:ss'),
    server_time,
    DATE_FORMAT(watermark_at, 'yyyy-MM-dd HH:mm:ss.SSS'),
    CAST(NULL AS STRING),
    CAST(NULL AS STRING),
    uid,
    TRY_CAST(room_id AS BIGINT),
    room_id,
    terminal,  -- user_type carries the terminal
    CAST(NULL AS INT),
    kind,
    bid,  -- extra_uid carries the product (bid)
    CAST(NULL AS BIGINT),
    source_split,
    CURRENT_TIMESTAMP
FROM presence_events
WHERE is_late;

CREATE TEMPORARY VIEW presence_counts AS
SELECT
    'room_presence_sessions' AS mart,
    COUNT(*) AS events_in,
    COUNT(*) FILTER (WHERE NOT is_late) AS events_counted,
    COUNT(*) FILTER (WHERE is_late) AS events_late,
    MIN(CURRENT_ROW_TIMESTAMP()) AS counting_since
FROM presence_events;

-- Counts only grow within a job's life (counting_since, kept in state, tells one run from
-- another), so the newest row of a run is the one with the most events_in.
INSERT INTO mart_accounting
SELECT mart, counting_since, events_in, events_counted, events_late, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE presence_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
