-- Classified student courseware events per business day and event type: events, the students
-- who produced them and the rooms they came from (late events included).
-- Grain: event_date x event. Source: ads.classroom_performance_1min (contract mart).
{{ daily_incremental_config('(event_date, event)') }}

select
    toDate(start_time) as event_date,
    event,
    toUInt64(sum(event_count)) as student_events,
    toUInt64(uniqExact(user_id)) as students,
    toUInt64(uniqExact(webserver_id)) as rooms
from {{ ref('classroom_performance_1min') }}
where {{ for_run_date('toDate(start_time)') }}
group by event_date, event
