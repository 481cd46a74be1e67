-- A run's log, one row per lesson, with the lesson's latest check (if any).
select
    log.lesson_id,
    log.lesson_date,
    log.build_status,
    log.policy_id,
    log.students,
    log.tutors,
    log.rooms,
    log.nodes,
    log.members,
    log.batch_no,
    log.batch_lessons,
    log.batch_students,
    log.batch_seconds,
    checks.checked,
    checks.errors,
    checks.warnings
from dim.preheat_lesson_log as log
left join
    (
        select
            lesson_id,
            1 as checked,
            argMax(errors, check_id) as errors,
            argMax(warnings, check_id) as warnings
        from dim.preheat_check_log
        where run_id = {run_id:UInt64}
        group by lesson_id
    ) as checks
    on checks.lesson_id = log.lesson_id
where log.run_id = {run_id:UInt64}
order by log.lesson_id
