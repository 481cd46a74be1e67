-- Daily summary per student: rooms attended, events by type, recorded-course progress, AV quality.
-- Grain: event_date x student_id.
{{ daily_incremental_config('(event_date, student_id)') }}

with events as (
    select
        event_date,
        user_id as student_id,
        uniqExact(room_id) as rooms,
        count() as events,
        sumMap(map(event, toUInt64(1))) as events_by_type
    from {{ ref('student_action_events') }}
    where {{ for_run_date('event_date') }}
    group by event_date, student_id
),

recorded as (
    select event_date, user_id as student_id, countIf(sub_event = 'PPT_SUCCESS') as ppt_successes
    from {{ ref('recorded_course_events') }}
    where {{ for_run_date('event_date') }}
    group by event_date, student_id
)

select
    if(activity.event_date = toDate(0), recorded.event_date, activity.event_date) as event_date,
    if(activity.student_id = 0, recorded.student_id, activity.student_id) as student_id,
    activity.rooms as rooms,
    activity.events as events,
    activity.events_by_type as events_by_type,
    recorded.ppt_successes as ppt_successes
from events as activity
full outer join recorded on recorded.event_date = activity.event_date and recorded.student_id = activity.student_id
