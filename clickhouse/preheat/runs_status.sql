-- The latest runs with their build, check and publication progress.
SELECT
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
FROM
    (SELECT * FROM dim.preheat_runs ORDER BY run_id DESC LIMIT {limit:UInt32}) AS run
LEFT JOIN
    (
        SELECT run_id, count() AS lessons, sum(students) AS students, sum(members) AS members
        FROM dim.preheat_lesson_log
        GROUP BY run_id
    ) AS built
    ON built.run_id = run.run_id
LEFT JOIN
    (
        SELECT run_id, count() AS lessons, countIf(errors > 0) AS error_lessons
        FROM
            (
                SELECT run_id, lesson_id, argMax(errors, check_id) AS errors
                FROM dim.preheat_check_log
                GROUP BY run_id, lesson_id
            )
        GROUP BY run_id
    ) AS checked
    ON checked.run_id = run.run_id
LEFT JOIN
    (
        SELECT
            run_id,
            1 AS present,
            min(published_at) AS published_at,
            length(any(withheld_lessons)) AS withheld
        FROM dim.preheat_publications
        GROUP BY run_id
    ) AS published
    ON published.run_id = run.run_id
ORDER BY run.run_id DESC
