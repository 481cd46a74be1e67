-- Student events per 1-minute tumbling window on event time, recomputed offline (late events in).
-- Grain: start_time x webserver_id x user_id x role x event. Contract: classroom_performance_1min.
{{ config(
    materialized='incremental',
    partition_by='toDate(start_time)',
    order_by='(start_time, webserver_id, user_id, event)',
) }}

select
    toStartOfInterval(event_at, interval 1 minute) as start_time,
    start_time + interval 1 minute as end_time,
    room_id as webserver_id,
    user_id,
    role,
    event,
    count() as event_count
from {{ ref('student_action_events') }}
where {{ for_run_date('event_date') }}
group by start_time, webserver_id, user_id, role, event
