-- Drop every row of an unpublished run (a scratch run after its diff, an abandoned run).
-- Mutations only touch parts that exist when they are submitted, and nobody reads an
-- unpublished run, so the caller may let them finish in the background.
alter table dim.preheat_lesson_log delete where run_id = {run_id:UInt64};

alter table dim.preheat_placement delete where run_id = {run_id:UInt64};

alter table dim.live_room delete where run_id = {run_id:UInt64};

alter table dim.org_node delete where run_id = {run_id:UInt64};

alter table dim.room_membership delete where run_id = {run_id:UInt64};

alter table dim.preheat_findings delete where run_id = {run_id:UInt64};

alter table dim.preheat_check_log delete where run_id = {run_id:UInt64};

alter table dim.preheat_runs delete where run_id = {run_id:UInt64}
