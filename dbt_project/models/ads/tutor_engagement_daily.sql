-- Student engagement per tutor and day: the day's booked students of each tutor in the published
-- preheat, how many produced classified events, and their events (a student booked into several
-- lessons that day has their events split evenly across them). Grain: event_date x tutor_id.
-- Sources: ads.classroom_performance_1min and the preheat dimension dim.lesson_student_current.
{{ daily_incremental_config('(event_date, tutor_id)') }}

with {{ preheat_engagement_ctes() }}

select
    event_date,
    tutor_id,
    arrayStringConcat(arraySort(groupUniqArray(group_kind)), ', ') as group_kinds,
    arrayStringConcat(
        arraySort(groupUniqArrayIf(tutoring_source, tutoring_source != '')), ', '
    ) as tutoring_sources,
    toUInt64(uniqExact(student_id)) as booked_students,
    toUInt64(uniqExactIf(student_id, is_engaged)) as engaged_students,
    toFloat64(sum(event_share)) as student_events
from engagement
group by event_date, tutor_id
