-- Real-time classroom performance as analysts query it: one row per window key (re-deliveries
-- resolved). Grain and columns as ads.classroom_performance_1min; may miss late events.
{{ config(alias='classroom_performance_1min') }}

select start_time, end_time, webserver_id, user_id, role, event, event_count
from {{ source('rt', 'classroom_performance_1min_log') }} final
