-- Remove what an earlier attempt of a batch wrote (run, lessons), so a retry starts clean.
-- The log row goes first: without it the lesson is not part of the run for any reader.
delete from dim.preheat_lesson_log
where run_id = {run_id:UInt64} and lesson_id in {lessons:Array(UInt64)};

delete from dim.preheat_placement
where run_id = {run_id:UInt64} and lesson_id in {lessons:Array(UInt64)};

delete from dim.live_room
where run_id = {run_id:UInt64} and lesson_id in {lessons:Array(UInt64)};

delete from dim.org_node
where run_id = {run_id:UInt64} and lesson_id in {lessons:Array(UInt64)};

delete from dim.room_membership
where run_id = {run_id:UInt64} and lesson_id in {lessons:Array(UInt64)}
