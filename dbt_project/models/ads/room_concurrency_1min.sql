-- Users present, peak online, sessions started and timeouts per room and minute, offline
-- (LIVE_CLASSROOM_CONTRACT.md B.3 room_concurrency_1min). Grain: start_time x bid x room_id;
-- a row exists iff a session intersects the minute [start_time, end_time).
{{ config(engine='MergeTree', order_by='(start_time, bid, room_id)') }}

select
    toDateTime(intDiv(minute_ms, 1000), '{{ business_tz() }}') as start_time,
    toDateTime(intDiv(minute_ms, 1000) + 60, '{{ business_tz() }}') as end_time,
    bid,
    room_id,
    users_present,
    peak_online,
    sessions_started,
    timeouts
from ({{ room_concurrency_from(ref('room_sessions')) }})
