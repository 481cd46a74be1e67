-- Valid room heartbeats (enter, beat, leave), late ones included, each message once.
-- Grain: one row per message_key. Source: ods.room_heartbeat_clean (LIVE_CLASSROOM_CONTRACT.md B.1);
-- the landing dedups by Kafka offset, this by the message identity.
{{ config(order_by='(bid, room_id, uid, server_time)') }}

select message_key, bid, room_id, uid, terminal, kind, server_time
from {{ source('ods', 'room_heartbeat_clean') }}
limit 1 by message_key
