{#- Room presence (LIVE_CLASSROOM_CONTRACT.md B.2, B.3) over a relation of heartbeats with the
    columns bid, room_id, uid, terminal, kind, server_time. Shared by ads and the
    reconciliation, which runs it over the heartbeats that were on time for the stream. -#}

{#- T = missed beats x interval, in ms (CLASSPULSE_PRESENCE_TIMEOUT_SECONDS, as the Flink job). -#}
{% macro presence_timeout_ms() -%}
    {{ (var('presence_timeout_seconds') | int) * 1000 }}
{%- endmacro %}

{#- One row per session: bid, room_id, uid, online_from_ms, online_to_ms, end_reason,
    terminals, heartbeats. -#}
{% macro room_sessions_from(heartbeats) -%}
{%- set timeout = presence_timeout_ms() -%}
with beats as (
    select bid, room_id, uid, terminal, kind, server_time
    from {{ heartbeats }}
),
cut as (
    -- next_leave = the earliest leave of the same terminal at or after the beat: the frame runs
    -- over later rows and, being a range frame, over peers at the same instant (the leave wins)
    select
        bid, room_id, uid, terminal, kind, server_time,
        minIfOrNull(server_time, kind = 'leave') over (
            partition by bid, room_id, uid, terminal
            order by server_time desc
            range between unbounded preceding and current row
        ) as next_leave
    from beats
),
coverage as (
    select
        bid, room_id, uid, terminal,
        server_time as covered_from,
        least(server_time + {{ timeout }}, ifNull(next_leave, server_time + {{ timeout }})) as covered_to
    from cut
    where kind != 'leave'
),
reach as (
    -- reach_before = the furthest coverage of the user's earlier intervals (0 for the first)
    select
        *,
        max(covered_to) over (
            partition by bid, room_id, uid
            order by covered_from, covered_to
            rows between unbounded preceding and 1 preceding
        ) as reach_before
    from coverage
    where covered_to > covered_from
),
numbered as (
    -- an interval opens a session when it starts after the reach so far (touching ones merge)
    select
        *,
        sum(toUInt32(covered_from > reach_before)) over (
            partition by bid, room_id, uid
            order by covered_from, covered_to
            rows between unbounded preceding and current row
        ) as session_no
    from reach
),
merged as (
    select
        bid, room_id, uid, session_no,
        min(covered_from) as online_from_ms,
        max(covered_to) as online_to_ms,
        toInt64(uniqExact(terminal)) as terminals
    from numbered
    group by bid, room_id, uid, session_no
),
counted as (
    -- enter/beat messages in [online_from, online_to), void ones included
    select
        m.bid as bid, m.room_id as room_id, m.uid as uid,
        m.online_from_ms as online_from_ms, m.online_to_ms as online_to_ms,
        any(m.terminals) as terminals,
        toInt64(countIf(b.server_time >= m.online_from_ms and b.server_time < m.online_to_ms)) as heartbeats
    from merged as m
    inner join (select bid, room_id, uid, server_time from beats where kind != 'leave') as b
        on b.bid = m.bid and b.room_id = m.room_id and b.uid = m.uid
    group by m.bid, m.room_id, m.uid, m.online_from_ms, m.online_to_ms
),
leaves as (
    select bid, room_id, uid, groupUniqArray(server_time) as leave_times
    from beats
    where kind = 'leave'
    group by bid, room_id, uid
)

select
    c.bid as bid, c.room_id as room_id, c.uid as uid,
    c.online_from_ms as online_from_ms, c.online_to_ms as online_to_ms,
    if(has(l.leave_times, c.online_to_ms), 'leave', 'timeout') as end_reason,
    c.terminals as terminals,
    c.heartbeats as heartbeats
from counted as c
left join leaves as l on l.bid = c.bid and l.room_id = c.room_id and l.uid = c.uid
{%- endmacro %}

{#- One row per room and minute with a user present, from a relation of sessions (columns as
    room_sessions_from). peak_online sweeps +1 at each (clipped) start and -1 at each end inside
    the minute, ends before starts at one instant. -#}
{% macro room_concurrency_from(sessions) -%}
with minutes as (
    select
        bid, room_id, uid, online_from_ms, online_to_ms, end_reason,
        arrayJoin(range(intDiv(online_from_ms, 60000) * 60000, online_to_ms, 60000)) as minute_ms
    from {{ sessions }}
)

select
    minute_ms,
    bid,
    room_id,
    toInt64(uniqExact(uid)) as users_present,
    toInt64(arrayMax(arrayCumSum(arrayMap(change -> change.2, arraySort(groupArrayArray(
        if(
            online_to_ms < minute_ms + 60000,
            [(greatest(online_from_ms, minute_ms), toInt64(1)), (online_to_ms, toInt64(-1))],
            [(greatest(online_from_ms, minute_ms), toInt64(1))]
        )
    )))))) as peak_online,
    toInt64(countIf(online_from_ms >= minute_ms)) as sessions_started,
    toInt64(countIf(end_reason = 'timeout' and online_to_ms <= minute_ms + 60000)) as timeouts
from minutes
group by minute_ms, bid, room_id
{%- endmacro %}

{#- The room lookup of LIVE_CLASSROOM_CONTRACT.md C, offline: one row per room_id of the
    currently published dimension (dim.live_room_current; of several rows the greatest lesson_id
    wins): room_id_number, dim_lesson_id, dim_room_role, dim_expected_members, dim_run_id. Without a
    published dimension (no preheat ran) the relation is empty, so every row is room_unknown:
    no row is ever dropped for a dimension. -#}
{% macro current_live_rooms() -%}
{%- set relation = adapter.get_relation(database=none, schema='dim', identifier='live_room_current') -%}
{%- if relation is not none -%}
(
    select
        r.room_id as room_id_number,
        max(r.lesson_id) as dim_lesson_id,
        argMax(r.room_role, r.lesson_id) as dim_room_role,
        argMax(r.expected_members, r.lesson_id) as dim_expected_members,
        argMax(r.run_id, r.lesson_id) as dim_run_id
    from {{ relation }} as r
    group by r.room_id
)
{%- else -%}
(
    select
        toUInt64(0) as room_id_number, toUInt64(0) as dim_lesson_id, '' as dim_room_role,
        toUInt32(0) as dim_expected_members, toUInt64(0) as dim_run_id
    where 0
)
{%- endif -%}
{%- endmacro %}
