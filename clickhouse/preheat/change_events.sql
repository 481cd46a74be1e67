-- Change events landed after the cursor, per kind, with the highest change id.
select change_kind, count() as events, max(change_id) as last_change_id
from ods.lesson_change
where change_id > {after:UInt64}
group by change_kind
order by change_kind
