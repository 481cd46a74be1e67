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

-- One process table function per bucket of a room (jvm/udf PresenceTracker, rules in
-- UserPresence; its state is a map of the bucket's users, a few dozen bytes each, and one timer)
-- in place of a join of beats with leaves and a chain of windows: it buffers each user's
-- heartbeats until the watermark passes them, applies them in event-time order keeping per
-- terminal only the end of its coverage, and emits each session once the watermark passes
-- online_to and each session's piece of a minute once it is final (at the session's end or the
-- minute's end). Rows are timed (rowtime) at the first 5-second boundary at or after that
-- instant, still within the minute (its end is one), so the minute aggregate below closes with the same
-- watermark. bucket = uid mod ${PRESENCE_BUCKETS} only partitions: a 60k-user room spreads over
-- every subtask, hundreds of users a key; the rows are per user whatever the bucket.
create temporary view presence_counted as
select
    bid, room_id, uid, terminal, kind, server_time, event_at,
    cast(mod(uid, ${PRESENCE_BUCKETS}) as int) as bucket
from presence_events
where not is_late;

create temporary view presence_rows as
select *
from presence_tracker(
    input => table presence_counted partition by (bid, room_id, bucket),
    on_time => descriptor (event_at),
    timeout_ms => cast(${PRESENCE_TIMEOUT_SECONDS} * 1000 as bigint),
    -- A uid of its own for the per-bucket state: a savepoint of the per-user layout
    -- ('room_presence_tracker') is refused on restore (not mapped) instead of read as buckets.
    uid => 'room_presence_by_bucket'
);

insert into room_presence_sessions
select
    bid, room_id, uid,
    date_format(to_timestamp_ltz(online_from, 3), 'yyyy-MM-dd HH:mm:ss.SSS'),
    date_format(to_timestamp_ltz(online_to, 3), 'yyyy-MM-dd HH:mm:ss.SSS'),
    online_from,
    online_to,
    end_reason,
    terminals,
    heartbeats,
    current_timestamp
from presence_rows
where row_kind = 'session';

-- Per room and minute m over the pieces, which are timed in (m, m + 60 s] (at the session's end
-- or at m + 60 s): a tumble shifted by 1 ms closes when the watermark reaches m + 60 s.
-- peak_online sweeps the pieces (a user's sessions neither overlap nor touch, so the overlap
-- counts users).
create temporary view presence_pieces as
select * from presence_rows where row_kind = 'piece';

create temporary view presence_concurrency as
select
    bid, room_id, minute_ms,
    count(distinct uid) as users_present,
    max_overlap(piece_from, piece_to) as peak_online,
    count(*) filter (where is_start) as sessions_started,
    count(*) filter (where is_timeout) as timeouts
from table(tumble(
    table presence_pieces, descriptor (rowtime), interval '1' minute,
    interval '0.001' second))
group by bid, room_id, minute_ms, window_start, window_end;

insert into room_concurrency_1min
select
    date_format(to_timestamp_ltz(minute_ms, 3), 'yyyy-MM-dd HH:mm:ss'),
    date_format(to_timestamp_ltz(minute_ms + 60000, 3), 'yyyy-MM-dd HH:mm:ss'),
    minute_ms,
    bid, room_id, users_present, peak_online, sessions_started, timeouts,
    current_timestamp
from presence_concurrency;

-- In late_events user_type carries the terminal, extra_uid the product (bid).
apply template route_late_events (
    mart = 'room_presence_sessions', events = 'presence_events', event_time_ms = 'server_time',
    user_id = 'uid', web_server_id = 'try_cast(room_id as bigint)', classroom_id = 'room_id',
    user_type = 'terminal', event = 'kind', extra_uid = 'bid'
);
