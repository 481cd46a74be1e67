-- Presence sessions, offline and complete: one row per maximal online interval of a user in a
-- room (LIVE_CLASSROOM_CONTRACT.md B.3 room_presence_sessions), times in the business zone.
-- Grain: bid x room_id x uid x online_from.
{{ config(engine='MergeTree', order_by='(bid, room_id, uid, online_from)') }}

select
    bid,
    room_id,
    uid,
    {{ epoch_ms_to_business('online_from_ms') }} as online_from,
    {{ epoch_ms_to_business('online_to_ms') }} as online_to,
    online_from_ms,
    online_to_ms,
    cast(end_reason as LowCardinality(String)) as end_reason,
    terminals,
    heartbeats
from {{ ref('room_sessions') }}
