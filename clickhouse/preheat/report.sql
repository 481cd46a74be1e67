-- A run's log, one row per lesson, with the lesson's latest check (if any).
SELECT
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
FROM dim.preheat_lesson_log AS log
LEFT JOIN
    (
        SELECT
            lesson_id,
            1 AS checked,
            argMax(errors, check_id) AS errors,
            argMax(warnings, check_id) AS warnings
        FROM dim.preheat_check_log
        WHERE run_id = {run_id:UInt64}
        GROUP BY lesson_id
    ) AS checks
    ON checks.lesson_id = log.lesson_id
WHERE log.run_id = {run_id:UInt64}
ORDER BY log.lesson_id
