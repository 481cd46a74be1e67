-- Drop every row of an unpublished run (a scratch run after its diff, an abandoned run).
DELETE FROM dim.preheat_lesson_log WHERE run_id = {run_id:UInt64};

DELETE FROM dim.preheat_placement WHERE run_id = {run_id:UInt64};

DELETE FROM dim.live_room WHERE run_id = {run_id:UInt64};

DELETE FROM dim.org_node WHERE run_id = {run_id:UInt64};

DELETE FROM dim.room_membership WHERE run_id = {run_id:UInt64};

DELETE FROM dim.preheat_findings WHERE run_id = {run_id:UInt64};

DELETE FROM dim.preheat_check_log WHERE run_id = {run_id:UInt64};

DELETE FROM dim.preheat_runs WHERE run_id = {run_id:UInt64}
