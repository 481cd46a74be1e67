-- Every classroom's total equals the sum over its latest lessons (rows returned = failures).
select t.classroom_id
from {{ ref('classroom_totals') }} as t
left join (
    select classroom_id, sum(attendee_count) as expected
    from {{ ref('lessons_latest') }}
    group by classroom_id
) as l on t.classroom_id = l.classroom_id
where t.attendee_total != l.expected
