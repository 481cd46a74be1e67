-- Real-time presence sessions, one row per key (re-deliveries resolved). Grain and columns as
-- ads.room_presence_sessions; a session the stream split around a late heartbeat stays split.
{{ config(alias='room_presence_sessions') }}

select
    bid,
    room_id,
    uid,
    {{ epoch_ms_to_business('online_from_ms') }} as online_from,
    {{ epoch_ms_to_business('online_to_ms') }} as online_to,
    online_from_ms,
    online_to_ms,
    end_reason,
    terminals,
    heartbeats
from {{ source('rt', 'room_presence_sessions_log') }} final
