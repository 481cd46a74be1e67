-- Size estimate of given lessons for batching: their enrollment rows (versions included).
SELECT lesson_id, count() AS students
FROM ods.lesson_enrollment
WHERE lesson_id IN {lessons:Array(UInt64)}
GROUP BY lesson_id
