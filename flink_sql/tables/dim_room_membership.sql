-- Dimension (lookup only): students of the preheated rooms as published,
-- dim.room_membership_current (key room_id, student_id: the greatest lesson_id; the job keeps it only
-- when it is the room's lesson; LIVE_CLASSROOM_CONTRACT.md C),
-- read by an asynchronous lookup with a cache from the warehouse. lookup_status as dim_live_room.
-- role: warehouse_lookup
create table dim_room_membership (
    lesson_id bigint,
    room_id decimal(20, 0),
    student_id bigint,
    tutor_id bigint,
    class_id bigint,
    group_node_id bigint,
    run_id bigint,
    lookup_status string
);
