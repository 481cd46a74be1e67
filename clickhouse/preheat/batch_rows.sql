-- Rows a batch already wrote for (run, lessons) in the tables a batch writes: non-zero means an
-- earlier attempt of the same batch ran (a retry), and its rows must go before the batch is
-- built again (clear_batch.sql).
select count() as written
from merge('dim', '^(preheat_placement|live_room|org_node|room_membership|preheat_lesson_log)$')
where lesson_id in {lessons:Array(UInt64)} and run_id = {run_id:UInt64}
