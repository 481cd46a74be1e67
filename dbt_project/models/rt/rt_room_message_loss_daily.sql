-- Real-time message gaps and losses: the upsert log resolved (latest version per key,
-- retractions gone). Grain and columns as ads.room_message_loss_daily.
{{ config(alias='room_message_loss_daily') }}

select
    day, bid, room_id, uid, terminal, reports, max_msgid, gap_msgids, lost_msgids, gap_rate,
    loss_rate
from {{ source('rt', 'room_message_loss_daily_log') }} final
