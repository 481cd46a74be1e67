-- Pushed-message gaps and losses per business day, room, user and terminal, offline
-- (LIVE_CLASSROOM_CONTRACT.md B.3 room_message_loss_daily; seed 002: missing msgids re-pulled).
-- gap = msgids ever reported missing; lost = still missing in the latest report (greatest
-- server_time, then the later message: split, position, as the stream breaks the tie).
{{ config(order_by='(day, bid, room_id, uid, terminal)') }}

select
    toDate({{ epoch_ms_to_business('server_time') }}) as day,
    bid,
    room_id,
    uid,
    terminal,
    toInt64(count()) as reports,
    max(max_msgid) as max_msgid,
    toInt64(length(groupUniqArrayArray(missing_msgids))) as gap_msgids,
    toInt64(argMax(length(missing_msgids), (server_time, source_split, message_seq))) as lost_msgids,
    if(max_msgid = 0, 0, gap_msgids / max_msgid) as gap_rate,
    if(max_msgid = 0, 0, lost_msgids / max_msgid) as loss_rate
from {{ ref('room_push_acks') }}
group by day, bid, room_id, uid, terminal
