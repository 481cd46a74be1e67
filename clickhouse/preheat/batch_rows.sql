-- Rows a batch already wrote for (run, lessons): non-zero means an earlier attempt of the
-- same batch ran (a retry), and its rows must go before the batch is built again.
SELECT
    (SELECT count() FROM dim.preheat_placement
     WHERE lesson_id IN {lessons:Array(UInt64)} AND run_id = {run_id:UInt64})
    + (SELECT count() FROM dim.live_room
       WHERE lesson_id IN {lessons:Array(UInt64)} AND run_id = {run_id:UInt64})
    + (SELECT count() FROM dim.org_node
       WHERE lesson_id IN {lessons:Array(UInt64)} AND run_id = {run_id:UInt64})
    + (SELECT count() FROM dim.room_membership
       WHERE lesson_id IN {lessons:Array(UInt64)} AND run_id = {run_id:UInt64})
    + (SELECT count() FROM dim.preheat_lesson_log
       WHERE lesson_id IN {lessons:Array(UInt64)} AND run_id = {run_id:UInt64}) AS written
