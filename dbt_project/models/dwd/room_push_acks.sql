-- Valid client push reports, each message once. Grain: one row per message_key.
-- Source: ods.room_push_ack_clean (LIVE_CLASSROOM_CONTRACT.md B.1).
{{ config(order_by='(bid, room_id, uid, terminal, server_time)') }}

select
    message_key, source_split, message_seq, bid, room_id, uid, terminal, server_time, max_msgid,
    missing_msgids
from {{ source('ods', 'room_push_ack_clean') }}
limit 1 by message_key
