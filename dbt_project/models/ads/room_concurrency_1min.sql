-- Users present, peak online, sessions started and timeouts per room and minute, offline
-- (LIVE_CLASSROOM_CONTRACT.md B.3 room_concurrency_1min). Grain: start_time x bid x room_id;
-- a row exists iff a session intersects the minute [start_time, end_time). Enriched (section C)
-- with the current published room dimension: lesson_id, expected_members, dim_status.
{{ config(order_by='(start_time, bid, room_id)') }}

select
    toDateTime(intDiv(minute_ms, 1000), '{{ business_tz() }}') as start_time,
    toDateTime(intDiv(minute_ms, 1000) + 60, '{{ business_tz() }}') as end_time,
    c.bid as bid,
    c.room_id as room_id,
    users_present,
    peak_online,
    sessions_started,
    timeouts,
    if(d.room_id_number = 0, toUInt64(0), d.dim_lesson_id) as lesson_id,
    if(d.room_id_number = 0, toUInt32(0), d.dim_expected_members) as expected_members,
    cast(if(d.room_id_number = 0, 'room_unknown', 'ok') as LowCardinality(String)) as dim_status
from ({{ room_concurrency_from(ref('room_sessions')) }}) as c
left join {{ current_live_rooms() }} as d on d.room_id_number = toUInt64OrZero(c.room_id)
