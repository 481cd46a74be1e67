-- How much of each day's student engagement the preheat can attribute to a tutor: all classified
-- student events, and those of students booked into no preheated lesson that day (unplaced).
-- Grain: event_date (days with student events). Sources: ads.classroom_performance_1min and the
-- preheat dimension dim.lesson_student_current.
{{ daily_incremental_config('event_date') }}

with {{ preheat_engagement_ctes() }},

placed as (
    select
        event_date,
        student_id,
        events,
        (event_date, student_id) in (select lesson_date, student_id from members) as is_placed
    from events_by_student
)

select
    event_date,
    toUInt64(count()) as students,
    toUInt64(sum(events)) as student_events,
    toUInt64(countIf(not is_placed)) as unplaced_students,
    toUInt64(sumIf(events, not is_placed)) as unplaced_events
from placed
group by event_date
