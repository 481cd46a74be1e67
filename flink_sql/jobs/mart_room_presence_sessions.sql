-- Presence sessions: maximal intervals during which a user is online in a room on any terminal,
-- and from the same coverage the concurrency per room and minute. Grain: bid x room_id x uid x
-- online_from (room_presence_sessions, written once the watermark has passed the session's end)
-- and bid x room_id x minute (room_concurrency_1min, written once it passes the minute's end).
-- Rule: LIVE_CLASSROOM_CONTRACT.md B.2/B.3 (seed 002: a user times out only when every terminal
-- and node agrees). Sinks: both marts, late_events, mart_accounting.

-- Late routing as in the windowed marts, by the operator's watermark alone: a heartbeat at or
-- behind the watermark when it arrives goes to late_events (mart room_presence_sessions), the
-- others to the sessions.
create temporary view presence_events as
select
    *,
    coalesce(event_at <= current_watermark(event_at), FALSE) as is_late,
    current_watermark(event_at) as watermark_at,
    -- the source message's offset: the last part of its key <topic>|<partition>|<offset>
    cast(split_index(message_key, '|', 2) as bigint) as source_offset
from room_heartbeat_clean;

-- Each leave with the previous leave of its terminal (-1 if none): it ends the coverage of the
-- terminal's enters and beats in (previous leave, leave].
create temporary view presence_leaves as
select
    bid, room_id, uid, terminal, server_time, event_at,
    case
        when count(*) over (
            partition by bid, room_id, uid, terminal order by event_at
            rows between 1 preceding and current row) = 1
            then cast(-1 as bigint)
        else min(server_time) over (
            partition by bid, room_id, uid, terminal order by event_at
            rows between 1 preceding and current row)
    end as previous_leave_time
from presence_events
where not is_late and kind = 'leave';

-- Coverage of an enter/beat at t: [t, min(t + T, L)), L = the first leave of its terminal at or
-- after t (a leave at the same instant wins: empty coverage, covered_to = t). The interval join
-- emits a beat without a leave once the watermark passes t + T.
create temporary view presence_coverage as
select
    beat.bid, beat.room_id, beat.uid, beat.terminal, beat.server_time, beat.event_at,
    coalesce(next_leave.server_time, beat.server_time + ${PRESENCE_TIMEOUT_SECONDS} * 1000) as covered_to,
    next_leave.server_time is not NULL as cut_by_leave
from (select * from presence_events where not is_late and kind <> 'leave') as beat
left join presence_leaves as next_leave
    on beat.bid = next_leave.bid and beat.room_id = next_leave.room_id and beat.uid = next_leave.uid and beat.terminal = next_leave.terminal
    -- Why the lower bound reaches 4T back although only leaves at or after the beat match (the
    -- exact bound is the server_time predicate): the interval join emits a beat without a leave
    -- from a clean-up timer at t + U + (X + U) / 2 (U = upper, X = lower width) and delays its
    -- output watermark by max(X, U). With X = 4T the beat leaves at t + 3.5T under an output
    -- watermark of t - 0.5T, still ahead of it, so the OVER below keeps it; with X <= 3T it
    -- would be behind and dropped (the first beat of a session that ends by a timeout was lost).
    and next_leave.event_at between beat.event_at - 4 * interval '${PRESENCE_TIMEOUT_SECONDS}' second
        and beat.event_at + interval '${PRESENCE_TIMEOUT_SECONDS}' second - interval '0.001' second
    and next_leave.server_time >= beat.server_time
    and next_leave.previous_leave_time < beat.server_time;

-- Union over the user's terminals in event-time order: reach = the furthest coverage so far; a
-- beat starts a session when it begins after the reach of the beats before it (touching
-- intervals merge). Peers at one instant cover each other, so their order does not matter.
create temporary view presence_reach as
select
    *,
    max(covered_to) over (
        partition by bid, room_id, uid order by event_at
        rows between unbounded preceding and current row) as reach
from presence_coverage;

create temporary view presence_starts as
select
    *,
    case
        when count(*) over (
            partition by bid, room_id, uid order by event_at
            rows between 1 preceding and current row) = 1
            then cast(NULL as bigint)
        -- reach never decreases: the smaller of the two is the previous row's
        else min(reach) over (
            partition by bid, room_id, uid order by event_at
            rows between 1 preceding and current row)
    end as previous_reach
from presence_reach;

create temporary view presence_numbered as
select
    *,
    sum(case when previous_reach is NULL or server_time > previous_reach then 1 else 0 end) over (
        partition by bid, room_id, uid order by event_at
        rows between unbounded preceding and current row) as session_no,
    previous_reach is NULL or server_time > previous_reach as is_start,
    covered_to = server_time as is_void
from presence_starts;

-- Beats of one session are at most T apart, so a session window of gap T per session number
-- holds the whole session; it closes when the watermark passes the last beat + T >= online_to.
create temporary view presence_sessions as
select
    bid, room_id, uid,
    min(server_time) as online_from,
    max(covered_to) as online_to,
    max(covered_to) filter (where cut_by_leave) as leave_to,
    count(distinct terminal) filter (where not is_void) as terminals,
    -- enter/beat messages in [online_from, online_to): every covering one; a void one (a leave at
    -- its instant) when it lies inside the coverage of the beats before it or starts the session,
    -- or sits at the reach so far and a later beat extends it
    count(*) filter (where not is_void or is_start or server_time < previous_reach) as inside,
    count(*) filter (where is_void and not is_start and server_time = previous_reach) as at_edge,
    max(server_time) filter (where is_void and not is_start and server_time = previous_reach)
        as edge_time
from table(SESSION (
    table presence_numbered partition by (bid, room_id, uid, session_no),
    DESCRIPTOR(event_at), interval '${PRESENCE_TIMEOUT_SECONDS}' second))
group by bid, room_id, uid, session_no, window_start, window_end;

insert into room_presence_sessions
select
    bid, room_id, uid,
    date_format(to_timestamp_ltz(online_from, 3), 'yyyy-MM-dd HH:mm:ss.SSS'),
    date_format(to_timestamp_ltz(online_to, 3), 'yyyy-MM-dd HH:mm:ss.SSS'),
    online_from,
    online_to,
    case when leave_to = online_to then 'leave' else 'timeout' end,
    terminals,
    inside + case when online_to > edge_time then at_edge else 0 end,
    current_timestamp
from presence_sessions
where online_to > online_from;  -- a group of void beats only covers nothing

-- Concurrency, stage 1: per user session and minute m, its piece of [m, m + 60 s). A hop of
-- 2 min sliding by 1 min, shifted by 1 ms, holds the beats in (m - 60 s, m + 60 s]: a beat before m
-- reaches into the minute by at most T (so T <= 60 s), and a beat at m + 60 s tells whether a
-- session whose coverage ends exactly there goes on (touching intervals merge). Within a session
-- the coverage is one interval, so the piece is [max(first, m), min(reach, m + 60 s)).
create temporary view presence_minute_pieces as
select
    bid, room_id, uid, session_no, minute_ms, window_time,
    greatest(min(server_time) filter (where is_covering), minute_ms) as piece_from,
    least(max(covered_to) filter (where is_covering), minute_ms + 60000) as piece_to,
    count(*) filter (where is_start and server_time >= minute_ms and server_time < minute_ms + 60000)
        as starts,
    max(covered_to) filter (where server_time < minute_ms + 60000) as reach,
    max(covered_to) filter (where cut_by_leave and server_time < minute_ms + 60000) as leave_reach,
    count(*) filter (where server_time = minute_ms + 60000 and covered_to > server_time)
        as continuations
from (
    select
        *,
        covered_to > server_time and server_time < minute_ms + 60000 and covered_to > minute_ms
            as is_covering
    from (
        select
            *,
            -- the minute this hop window stands for: its start (shifted by 1 ms) + 60 s
            unix_timestamp(date_format(window_start, 'yyyy-MM-dd HH:mm:ss')) * 1000 + 60000
                as minute_ms
        from table(hop(
            table presence_numbered, descriptor (event_at),
            interval '1' minute, interval '2' minute, interval '0.001' second))
    )
)
group by bid, room_id, uid, session_no, minute_ms, window_start, window_end, window_time;

-- Stage 2: per room and minute (the pieces are timed at m + 60 s; the tumble is shifted by 1 ms
-- to match). peak_online sweeps the pieces (a user's sessions never overlap nor touch, so the
-- overlap counts distinct users); a session started in the minute if its first beat is in it;
-- it timed out in the minute if its reach ends in (m, m + 60 s], no beat goes on from there and
-- no leave cut it there.
create temporary view presence_concurrency as
select
    bid, room_id, minute_ms,
    count(distinct uid) filter (where piece_to > piece_from) as users_present,
    max_overlap(piece_from, piece_to) as peak_online,
    count(*) filter (where piece_to > piece_from and starts > 0) as sessions_started,
    count(*) filter (
        where piece_to > piece_from
            and reach > minute_ms and reach <= minute_ms + 60000
            and not (reach = minute_ms + 60000 and continuations > 0)
            and (leave_reach is NULL or leave_reach < reach)
    ) as timeouts
from table(tumble(
    table presence_minute_pieces, descriptor (window_time), interval '1' minute,
    interval '0.001' second))
group by bid, room_id, minute_ms, window_start, window_end;

insert into room_concurrency_1min
select
    date_format(to_timestamp_ltz(minute_ms, 3), 'yyyy-MM-dd HH:mm:ss'),
    date_format(to_timestamp_ltz(minute_ms + 60000, 3), 'yyyy-MM-dd HH:mm:ss'),
    minute_ms,
    bid, room_id, users_present, peak_online, sessions_started, timeouts,
    current_timestamp
from presence_concurrency
where users_present > 0;

-- In late_events user_type carries the terminal, extra_uid the product (bid).
apply template route_late_events (
    mart = 'room_presence_sessions', events = 'presence_events', event_time_ms = 'server_time',
    user_id = 'uid', web_server_id = 'try_cast(room_id as bigint)', classroom_id = 'room_id',
    user_type = 'terminal', event = 'kind', extra_uid = 'bid'
);
