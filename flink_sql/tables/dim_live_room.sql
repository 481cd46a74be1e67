-- Dimension (lookup only): the preheated rooms as published, dim.live_room_current (key room_id;
-- LIVE_CLASSROOM_CONTRACT.md C, seed 004), read by an asynchronous lookup with a cache from the
-- warehouse. lookup_status: ok, or timeout/error when the warehouse did not answer within 500 ms
-- after one retry (then only room_id is set). Several rows for a room: the greatest lesson_id.
-- role: warehouse_lookup
create table dim_live_room (
    room_id decimal(20, 0),
    lesson_id bigint,
    lesson_date date,
    room_role string,
    expected_members bigint,
    tutor_id bigint,
    scope_node_id bigint,
    run_id bigint,
    lookup_status string
);
