-- Remove what an earlier attempt of a batch wrote (run, lessons), so a retry starts clean.
-- The log row goes first: without it the lesson is not part of the run for any reader.
DELETE FROM dim.preheat_lesson_log
WHERE run_id = {run_id:UInt64} AND lesson_id IN {lessons:Array(UInt64)};

DELETE FROM dim.preheat_placement
WHERE run_id = {run_id:UInt64} AND lesson_id IN {lessons:Array(UInt64)};

DELETE FROM dim.live_room
WHERE run_id = {run_id:UInt64} AND lesson_id IN {lessons:Array(UInt64)};

DELETE FROM dim.org_node
WHERE run_id = {run_id:UInt64} AND lesson_id IN {lessons:Array(UInt64)};

DELETE FROM dim.room_membership
WHERE run_id = {run_id:UInt64} AND lesson_id IN {lessons:Array(UInt64)}
