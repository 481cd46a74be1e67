-- Plan a day: every lesson scheduled on the day (latest version) plus every lesson readers
-- currently see on the day (so a lesson moved away is re-preheated on its new day), with its
-- enrollment rows as the size estimate (versions included: cheap, and only for batching).
SELECT
    lesson_id,
    toUInt64(ifNull(sizes.students, 0)) AS students
FROM
    (
        SELECT lesson_id FROM ods.lesson_schedule FINAL WHERE lesson_date = {day:Date}
        UNION DISTINCT
        SELECT lesson_id FROM dim.lesson_current_run WHERE lesson_date = {day:Date}
    ) AS planned
LEFT JOIN
    (
        SELECT lesson_id, count() AS students
        FROM ods.lesson_enrollment
        WHERE lesson_id IN (
            SELECT lesson_id FROM ods.lesson_schedule FINAL WHERE lesson_date = {day:Date}
            UNION DISTINCT
            SELECT lesson_id FROM dim.lesson_current_run WHERE lesson_date = {day:Date}
        )
        GROUP BY lesson_id
    ) AS sizes
    ON sizes.lesson_id = planned.lesson_id
ORDER BY lesson_id
