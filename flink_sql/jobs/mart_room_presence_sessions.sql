-- Presence sessions: maximal intervals during which a user is online in a room on any terminal,
-- and from the same coverage the concurrency per room and minute. Grain: bid x room_id x uid x
-- online_from (room_presence_sessions, written once the watermark has passed the session's end)
-- and bid x room_id x minute (room_concurrency_1min, written once it passes the minute's end).
-- Rule: LIVE_CLASSROOM_CONTRACT.md B.2/B.3 (seed 002: a user times out only when every terminal
-- and node agrees). Sinks: both marts, late_events, mart_accounting.

-- Late routing as in the windowed marts, by the operator's watermark alone: a heartbeat at or
-- behind the watermark when it arrives goes to late_events (mart room_presence_sessions), the
-- others to the sessions.
CREATE TEMPORARY VIEW presence_events AS
SELECT
    *,
    COALESCE(event_at <= CURRENT_WATERMARK(event_at), FALSE) AS is_late,
    CURRENT_WATERMARK(event_at) AS watermark_at,
    -- the source message's offset: the last part of its key <topic>|<partition>|<offset>
    cast(split_index(message_key, '|', 2) as bigint) as source_offset
FROM room_heartbeat_clean;

-- Each leave with the previous leave of its terminal (-1 if none): it ends the coverage of the
-- terminal's enters and beats in (previous leave, leave].
CREATE TEMPORARY VIEW presence_leaves AS
SELECT
    bid, room_id, uid, terminal, server_time, event_at,
    CASE
        WHEN COUNT(*) OVER (
            PARTITION BY bid, room_id, uid, terminal ORDER BY event_at
            ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) = 1
            THEN CAST(-1 AS BIGINT)
        ELSE MIN(server_time) OVER (
            PARTITION BY bid, room_id, uid, terminal ORDER BY event_at
            ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
    END AS previous_leave_time
FROM presence_events
WHERE NOT is_late AND kind = 'leave';

-- Coverage of an enter/beat at t: [t, min(t + T, L)), L = the first leave of its terminal at or
-- after t (a leave at the same instant wins: empty coverage, covered_to = t). The interval join
-- emits a beat without a leave once the watermark passes t + T.
CREATE TEMPORARY VIEW presence_coverage AS
SELECT
    beat.bid, beat.room_id, beat.uid, beat.terminal, beat.server_time, beat.event_at,
    COALESCE(next_leave.server_time, beat.server_time + ${PRESENCE_TIMEOUT_SECONDS} * 1000) AS covered_to,
    next_leave.server_time IS NOT NULL AS cut_by_leave
FROM (SELECT * FROM presence_events WHERE NOT is_late AND kind <> 'leave') AS beat
LEFT JOIN presence_leaves AS next_leave
    ON beat.bid = next_leave.bid AND beat.room_id = next_leave.room_id AND beat.uid = next_leave.uid AND beat.terminal = next_leave.terminal
    -- Why the lower bound reaches 4T back although only leaves at or after the beat match (the
    -- exact bound is the server_time predicate): the interval join emits a beat without a leave
    -- from a clean-up timer at t + U + (X + U) / 2 (U = upper, X = lower width) and delays its
    -- output watermark by max(X, U). With X = 4T the beat leaves at t + 3.5T under an output
    -- watermark of t - 0.5T, still ahead of it, so the OVER below keeps it; with X <= 3T it
    -- would be behind and dropped (the first beat of a session that ends by a timeout was lost).
    AND next_leave.event_at BETWEEN beat.event_at - 4 * INTERVAL '${PRESENCE_TIMEOUT_SECONDS}' SECOND
        AND beat.event_at + INTERVAL '${PRESENCE_TIMEOUT_SECONDS}' SECOND - INTERVAL '0.001' SECOND
    AND next_leave.server_time >= beat.server_time
    AND next_leave.previous_leave_time < beat.server_time;

-- Union over the user's terminals in event-time order: reach = the furthest coverage so far; a
-- beat starts a session when it begins after the reach of the beats before it (touching
-- intervals merge). Peers at one instant cover each other, so their order does not matter.
CREATE TEMPORARY VIEW presence_reach AS
SELECT
    *,
    MAX(covered_to) OVER (
        PARTITION BY bid, room_id, uid ORDER BY event_at
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS reach
FROM presence_coverage;

CREATE TEMPORARY VIEW presence_starts AS
SELECT
    *,
    CASE
        WHEN COUNT(*) OVER (
            PARTITION BY bid, room_id, uid ORDER BY event_at
            ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) = 1
            THEN CAST(NULL AS BIGINT)
        -- reach never decreases: the smaller of the two is the previous row's
        ELSE MIN(reach) OVER (
            PARTITION BY bid, room_id, uid ORDER BY event_at
            ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
    END AS previous_reach
FROM presence_reach;

CREATE TEMPORARY VIEW presence_numbered AS
SELECT
    *,
    SUM(CASE WHEN previous_reach IS NULL OR server_time > previous_reach THEN 1 ELSE 0 END) OVER (
        PARTITION BY bid, room_id, uid ORDER BY event_at
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no,
    previous_reach IS NULL OR server_time > previous_reach AS is_start,
    covered_to = server_time AS is_void
FROM presence_starts;

-- Beats of one session are at most T apart, so a session window of gap T per session number
-- holds the whole session; it closes when the watermark passes the last beat + T >= online_to.
CREATE TEMPORARY VIEW presence_sessions AS
SELECT
    bid, room_id, uid,
    MIN(server_time) AS online_from,
    MAX(covered_to) AS online_to,
    MAX(covered_to) FILTER (WHERE cut_by_leave) AS leave_to,
    COUNT(DISTINCT terminal) FILTER (WHERE NOT is_void) AS terminals,
    -- enter/beat messages in [online_from, online_to): every covering one; a void one (a leave at
    -- its instant) when it lies inside the coverage of the beats before it or starts the session,
    -- or sits at the reach so far and a later beat extends it
    COUNT(*) FILTER (WHERE NOT is_void OR is_start OR server_time < previous_reach) AS inside,
    COUNT(*) FILTER (WHERE is_void AND NOT is_start AND server_time = previous_reach) AS at_edge,
    MAX(server_time) FILTER (WHERE is_void AND NOT is_start AND server_time = previous_reach)
        AS edge_time
FROM TABLE(SESSION(
    TABLE presence_numbered PARTITION BY (bid, room_id, uid, session_no),
    DESCRIPTOR(event_at), INTERVAL '${PRESENCE_TIMEOUT_SECONDS}' SECOND))
GROUP BY bid, room_id, uid, session_no, window_start, window_end;

INSERT INTO room_presence_sessions
SELECT
    bid, room_id, uid,
    DATE_FORMAT(TO_TIMESTAMP_LTZ(online_from, 3), 'yyyy-MM-dd HH:mm:ss.SSS'),
    DATE_FORMAT(TO_TIMESTAMP_LTZ(online_to, 3), 'yyyy-MM-dd HH:mm:ss.SSS'),
    online_from,
    online_to,
    CASE WHEN leave_to = online_to THEN 'leave' ELSE 'timeout' END,
    terminals,
    inside + CASE WHEN online_to > edge_time THEN at_edge ELSE 0 END,
    CURRENT_TIMESTAMP
FROM presence_sessions
WHERE online_to > online_from;  -- a group of void beats only covers nothing

-- Concurrency, stage 1: per user session and minute m, its piece of [m, m + 60 s). A hop of
-- 2 min sliding by 1 min, shifted by 1 ms, holds the beats in (m - 60 s, m + 60 s]: a beat before m
-- reaches into the minute by at most T (so T <= 60 s), and a beat at m + 60 s tells whether a
-- session whose coverage ends exactly there goes on (touching intervals merge). Within a session
-- the coverage is one interval, so the piece is [max(first, m), min(reach, m + 60 s)).
CREATE TEMPORARY VIEW presence_minute_pieces AS
SELECT
    bid, room_id, uid, session_no, minute_ms, window_time,
    GREATEST(MIN(server_time) FILTER (WHERE is_covering), minute_ms) AS piece_from,
    LEAST(MAX(covered_to) FILTER (WHERE is_covering), minute_ms + 60000) AS piece_to,
    COUNT(*) FILTER (WHERE is_start AND server_time >= minute_ms AND server_time < minute_ms + 60000)
        AS starts,
    MAX(covered_to) FILTER (WHERE server_time < minute_ms + 60000) AS reach,
    MAX(covered_to) FILTER (WHERE cut_by_leave AND server_time < minute_ms + 60000) AS leave_reach,
    COUNT(*) FILTER (WHERE server_time = minute_ms + 60000 AND covered_to > server_time)
        AS continuations
FROM (
    SELECT
        *,
        covered_to > server_time AND server_time < minute_ms + 60000 AND covered_to > minute_ms
            AS is_covering
    FROM (
        SELECT
            *,
            -- the minute this hop window stands for: its start (shifted by 1 ms) + 60 s
            UNIX_TIMESTAMP(DATE_FORMAT(window_start, 'yyyy-MM-dd HH:mm:ss')) * 1000 + 60000
                AS minute_ms
        FROM TABLE(HOP(
            TABLE presence_numbered, DESCRIPTOR(event_at),
            INTERVAL '1' MINUTE, INTERVAL '2' MINUTE, INTERVAL '0.001' SECOND))
    )
)
GROUP BY bid, room_id, uid, session_no, minute_ms, window_start, window_end, window_time;

-- Stage 2: per room and minute (the pieces are timed at m + 60 s; the tumble is shifted by 1 ms
-- to match). peak_online sweeps the pieces (a user's sessions never overlap nor touch, so the
-- overlap counts distinct users); a session started in the minute if its first beat is in it;
-- it timed out in the minute if its reach ends in (m, m + 60 s], no beat goes on from there and
-- no leave cut it there.
CREATE TEMPORARY VIEW presence_concurrency AS
SELECT
    bid, room_id, minute_ms,
    COUNT(DISTINCT uid) FILTER (WHERE piece_to > piece_from) AS users_present,
    max_overlap(piece_from, piece_to) AS peak_online,
    COUNT(*) FILTER (WHERE piece_to > piece_from AND starts > 0) AS sessions_started,
    COUNT(*) FILTER (
        WHERE piece_to > piece_from
            AND reach > minute_ms AND reach <= minute_ms + 60000
            AND NOT (reach = minute_ms + 60000 AND continuations > 0)
            AND (leave_reach IS NULL OR leave_reach < reach)
    ) AS timeouts
FROM TABLE(TUMBLE(
    TABLE presence_minute_pieces, DESCRIPTOR(window_time), INTERVAL '1' MINUTE,
    INTERVAL '0.001' SECOND))
GROUP BY bid, room_id, minute_ms, window_start, window_end;

INSERT INTO room_concurrency_1min
SELECT
    DATE_FORMAT(TO_TIMESTAMP_LTZ(minute_ms, 3), 'yyyy-MM-dd HH:mm:ss'),
    DATE_FORMAT(TO_TIMESTAMP_LTZ(minute_ms + 60000, 3), 'yyyy-MM-dd HH:mm:ss'),
    minute_ms,
    bid, room_id, users_present, peak_online, sessions_started, timeouts,
    CURRENT_TIMESTAMP
FROM presence_concurrency
WHERE users_present > 0;

-- In late_events user_type carries the terminal, extra_uid the product (bid).
apply template route_late_events (
    mart = 'room_presence_sessions', events = 'presence_events', event_time_ms = 'server_time',
    user_id = 'uid', web_server_id = 'try_cast(room_id as bigint)', classroom_id = 'room_id',
    user_type = 'terminal', event = 'kind', extra_uid = 'bid'
);
