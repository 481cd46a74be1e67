-- Size estimate of given lessons for batching: their enrollment rows (versions included).
select lesson_id, count() as students
from ods.lesson_enrollment
where lesson_id in {lessons:Array(UInt64)}
group by lesson_id
