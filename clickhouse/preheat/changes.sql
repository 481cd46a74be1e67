-- The lessons intra-day changes in (after, upto] touch (seed: 异动). A lesson event
-- (lesson_rescheduled, lesson_reopened) touches its lesson. Course events touch the course's
-- lessons readers currently see, dated on or after the event's business day: every one
-- for tutor_changed, those the student has an enrollment row in for student_moved.
with
events as (
    select
        change_kind,
        lesson_id,
        course_id,
        student_id,
        toDate(occurred_at, {timezone:String}) as event_date
    from ods.lesson_change
    where change_id > {after:UInt64} and change_id <= {upto:UInt64}
),

recent as (
    select lesson_id, lesson_date
    from dim.lesson_current_run
    where lesson_date >= (select min(event_date) from events)
),

course_lessons as (
    select recent.lesson_id as lesson_id, recent.lesson_date as lesson_date, schedule.course_id as course_id
    from recent
    inner join
        (
            select lesson_id, course_id
            from ods.lesson_schedule final
            where lesson_id in (select lesson_id from recent)
        ) as schedule
        on schedule.lesson_id = recent.lesson_id
    where schedule.course_id in (select course_id from events where course_id != 0)
),

moved as (
    select distinct lesson_id, student_id
    from ods.lesson_enrollment
    where
        lesson_id in (select lesson_id from course_lessons)
        and student_id in (select student_id from events where change_kind = 'student_moved')
)

select distinct lesson_id
from
    (
        select lesson_id
        from events
        where change_kind in ('lesson_rescheduled', 'lesson_reopened') and lesson_id != 0
        union all
        select course_lessons.lesson_id
        from events
        inner join course_lessons on course_lessons.course_id = events.course_id
        where events.change_kind = 'tutor_changed' and course_lessons.lesson_date >= events.event_date
        union all
        select course_lessons.lesson_id
        from events
        inner join course_lessons on course_lessons.course_id = events.course_id
        inner join moved
            on moved.lesson_id = course_lessons.lesson_id and moved.student_id = events.student_id
        where events.change_kind = 'student_moved' and course_lessons.lesson_date >= events.event_date
    )
order by lesson_id
