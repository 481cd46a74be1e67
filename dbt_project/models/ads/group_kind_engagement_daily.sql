-- Student engagement per group kind and day, from the published preheat's placement: tutors,
-- groups, booked and engaged students and their events (split evenly across a student's lessons
-- of the day). Grain: event_date x group_kind.
-- Sources: ads.classroom_performance_1min and the preheat dimension dim.lesson_student_current.
{{ daily_incremental_config('(event_date, group_kind)') }}

with {{ preheat_engagement_ctes() }}

select
    event_date,
    group_kind,
    toUInt64(uniqExact(tutor_id)) as tutors,
    toUInt64(uniqExact(group_node_id)) as group_nodes,
    toUInt64(uniqExact(student_id)) as booked_students,
    toUInt64(uniqExactIf(student_id, is_engaged)) as engaged_students,
    toFloat64(sum(event_share)) as student_events
from engagement
group by event_date, group_kind
