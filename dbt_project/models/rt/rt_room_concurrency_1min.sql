-- Real-time concurrency per room and minute, one row per key (re-deliveries resolved). Grain and
-- columns as ads.room_concurrency_1min; minutes around a late heartbeat may differ.
{{ config(alias='room_concurrency_1min') }}

select
    start_time, end_time, bid, room_id, users_present, peak_online, sessions_started, timeouts
from {{ source('rt', 'room_concurrency_1min_log') }} final
