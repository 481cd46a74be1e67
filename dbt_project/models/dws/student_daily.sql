-- Daily summary per student: rooms attended, events by type, recorded-course progress, AV quality.
-- Grain: event_date x student_id.
{{ config(
    materialized='incremental',
    partition_by='event_date',
    order_by='(event_date, student_id)',
) }}

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
    if(e.event_date = toDate(0), r.event_date, e.event_date) as event_date,
    if(e.student_id = 0, r.student_id, e.student_id) as student_id,
    e.rooms as rooms,
    e.events as events,
    e.events_by_type as events_by_type,
    r.ppt_successes as ppt_successes
from events as e
full outer join recorded as r on r.event_date = e.event_date and r.student_id = e.student_id
