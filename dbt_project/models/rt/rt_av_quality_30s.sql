-- Real-time AV quality per 30 s window, one row per key (re-deliveries resolved).
-- Grain and columns as ads.av_quality_30s; may miss late events.
{{ config(alias='av_quality_30s') }}

select
    start_time, end_time, user_id, web_server_id, classroom_id, user_type, extra_uid, event,
    event_sum, event_avg, event_count
from {{ source('rt', 'av_quality_30s_log') }} final
