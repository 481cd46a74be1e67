-- Drop every row of an unpublished run (a scratch run after its diff, an abandoned run).
-- Mutations only touch parts that exist when they are submitted, and nobody reads an
-- unpublished run, so the caller may let them finish in the background.
ALTER TABLE dim.preheat_lesson_log DELETE WHERE run_id = {run_id:UInt64};

ALTER TABLE dim.preheat_placement DELETE WHERE run_id = {run_id:UInt64};

ALTER TABLE dim.live_room DELETE WHERE run_id = {run_id:UInt64};

ALTER TABLE dim.org_node DELETE WHERE run_id = {run_id:UInt64};

ALTER TABLE dim.room_membership DELETE WHERE run_id = {run_id:UInt64};

ALTER TABLE dim.preheat_findings DELETE WHERE run_id = {run_id:UInt64};

ALTER TABLE dim.preheat_check_log DELETE WHERE run_id = {run_id:UInt64};

ALTER TABLE dim.preheat_runs DELETE WHERE run_id = {run_id:UInt64}
