-- Dimension (lookup only): students of the preheated rooms as published,
-- dim.room_membership_current (key room_id, student_id: the greatest lesson_id; the job keeps it only
-- when it is the room's lesson; LIVE_CLASSROOM_CONTRACT.md C),
-- read by an asynchronous lookup with a cache from the warehouse. lookup_status as dim_live_room.
-- role: warehouse_lookup
CREATE TABLE dim_room_membership (
    lesson_id     BIGINT,
    room_id       DECIMAL(20, 0),
    student_id    BIGINT,
    tutor_id      BIGINT,
    class_id      BIGINT,
    group_node_id BIGINT,
    run_id        BIGINT,
    lookup_status STRING
);
