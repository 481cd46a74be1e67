-- The latest runs with their build, check and publication progress.
select
    run.run_id,
    run.run_kind,
    run.run_day,
    length(run.lesson_ids),
    run.created_at,
    run.note,
    built.lessons,
    built.students,
    built.members,
    checked.lessons,
    checked.error_lessons,
    published.present,
    published.published_at,
    published.withheld
from
    (select * from dim.preheat_runs order by run_id desc limit {limit:UInt32}) as run
left join
    (
        select run_id, count() as lessons, sum(students) as students, sum(members) as members
        from dim.preheat_lesson_log
        group by run_id
    ) as built
    on built.run_id = run.run_id
left join
    (
        select run_id, count() as lessons, countIf(errors > 0) as error_lessons
        from
            (
                select run_id, lesson_id, argMax(errors, check_id) as errors
                from dim.preheat_check_log
                group by run_id, lesson_id
            )
        group by run_id
    ) as checked
    on checked.run_id = run.run_id
left join
    (
        select
            run_id,
            1 as present,
            min(published_at) as published_at,
            length(any(withheld_lessons)) as withheld
        from dim.preheat_publications
        group by run_id
    ) as published
    on published.run_id = run.run_id
order by run.run_id desc
