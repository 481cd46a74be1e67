-- Plan a day: every lesson scheduled on the day (latest version) plus every lesson readers
-- currently see on the day (so a lesson moved away is re-preheated on its new day), with its
-- enrollment rows as the size estimate (versions included: cheap, and only for batching).
select
    lesson_id,
    toUInt64(ifNull(sizes.students, 0)) as students
from
    (
        select lesson_id from ods.lesson_schedule final where lesson_date = {day:Date}
        union distinct
        select lesson_id from dim.lesson_current_run where lesson_date = {day:Date}
    ) as planned
left join
    (
        select lesson_id, count() as students
        from ods.lesson_enrollment
        where
            lesson_id in (
                select lesson_id from ods.lesson_schedule final where lesson_date = {day:Date}
                union distinct
                select lesson_id from dim.lesson_current_run where lesson_date = {day:Date}
            )
        group by lesson_id
    ) as sizes
    on sizes.lesson_id = planned.lesson_id
order by lesson_id
