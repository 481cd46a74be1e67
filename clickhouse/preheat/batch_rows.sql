-- Rows a batch already wrote for (run, lessons): non-zero means an earlier attempt of the
-- same batch ran (a retry), and its rows must go before the batch is built again.
select
    (
        select count() from dim.preheat_placement
        where lesson_id in {lessons:Array(UInt64)} and run_id = {run_id:UInt64}
    )
    + (
        select count() from dim.live_room
        where lesson_id in {lessons:Array(UInt64)} and run_id = {run_id:UInt64}
    )
    + (
        select count() from dim.org_node
        where lesson_id in {lessons:Array(UInt64)} and run_id = {run_id:UInt64}
    )
    + (
        select count() from dim.room_membership
        where lesson_id in {lessons:Array(UInt64)} and run_id = {run_id:UInt64}
    )
    + (
        select count() from dim.preheat_lesson_log
        where lesson_id in {lessons:Array(UInt64)} and run_id = {run_id:UInt64}
    ) as written
