-- Presence sessions, offline and complete: one row per maximal online interval of a user in a
-- room (LIVE_CLASSROOM_CONTRACT.md B.3 room_presence_sessions), times in the business zone.
-- Grain: bid x room_id x uid x online_from. Enriched (section C) with the current published
-- room dimension at build time: lesson_id, room_role, dim_status (ok | room_unknown).
{{ config(order_by='(bid, room_id, uid, online_from)') }}

select
    sessions.bid as bid,
    sessions.room_id as room_id,
    sessions.uid as uid,
    {{ epoch_ms_to_business('online_from_ms') }} as online_from,
    {{ epoch_ms_to_business('online_to_ms') }} as online_to,
    online_from_ms,
    online_to_ms,
    cast(end_reason as LowCardinality(String)) as end_reason,
    terminals,
    heartbeats,
    if(live_rooms.room_id_number = 0, toUInt64(0), live_rooms.dim_lesson_id) as lesson_id,
    cast(if(live_rooms.room_id_number = 0, '', live_rooms.dim_room_role) as LowCardinality(String)) as room_role,
    cast(if(live_rooms.room_id_number = 0, 'room_unknown', 'ok') as LowCardinality(String)) as dim_status
from {{ ref('room_sessions') }} as sessions
left join {{ current_live_rooms() }} as live_rooms on live_rooms.room_id_number = toUInt64OrZero(sessions.room_id)
