-- Classified student courseware events per business hour and event type, all rooms together
-- (late events included). Grain: event_date x event_hour x event.
-- Source: ads.classroom_performance_1min (contract mart).
{{ daily_incremental_config('(event_date, event_hour, event)') }}

select
    toDate(start_time) as event_date,
    toUInt8(toHour(start_time)) as event_hour,
    event,
    toUInt64(sum(event_count)) as student_events
from {{ ref('classroom_performance_1min') }}
where {{ for_run_date('toDate(start_time)') }}
group by event_date, event_hour, event
