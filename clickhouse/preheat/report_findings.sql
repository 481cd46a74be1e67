-- A run's findings from each lesson's latest check.
SELECT lesson_id, kind, severity, detail, count
FROM dim.preheat_findings
WHERE
    run_id = {run_id:UInt64}
    AND (lesson_id, check_id) IN (
        SELECT lesson_id, max(check_id)
        FROM dim.preheat_check_log
        WHERE run_id = {run_id:UInt64}
        GROUP BY lesson_id
    )
ORDER BY severity, lesson_id, kind
