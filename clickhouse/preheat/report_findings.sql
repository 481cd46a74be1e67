-- A run's findings from each lesson's latest check.
select lesson_id, kind, severity, detail, count
from dim.preheat_findings
where
    run_id = {run_id:UInt64}
    and (lesson_id, check_id) in (
        select lesson_id, max(check_id)
        from dim.preheat_check_log
        where run_id = {run_id:UInt64}
        group by lesson_id
    )
order by severity, lesson_id, kind
