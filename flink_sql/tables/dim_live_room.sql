-- Dimension (lookup only): the preheated rooms as published, dim.live_room_current (key room_id;
-- LIVE_CLASSROOM_CONTRACT.md C, seed 004), read by an asynchronous lookup with a cache from the
-- warehouse. lookup_status: ok, or timeout/error when the warehouse did not answer within 500 ms
-- after one retry (then only room_id is set). Several rows for a room: the greatest lesson_id.
-- role: warehouse_lookup
CREATE TABLE dim_live_room (
    room_id          DECIMAL(20, 0),
    lesson_id        BIGINT,
    lesson_date      DATE,
    room_role        STRING,
    expected_members BIGINT,
    tutor_id         BIGINT,
    scope_node_id    BIGINT,
    run_id           BIGINT,
    lookup_status    STRING
);
