-- Mart: one row per help request (first deliveries and merged presses) and detected ticket
-- (LIVE_CLASSROOM_CONTRACT.md A.4, A.5); an upsert log keyed by request_id, greatest version wins,
-- is_deleted marks a replaced row. Times are epoch ms.
-- role: output
CREATE TABLE help_request_triage (
    request_id     STRING,
    source         STRING,  -- help | detected
    room_id        DECIMAL(20, 0),
    user_id        BIGINT,
    `role`         STRING,
    request_time   BIGINT,  -- client_time of the press (h)
    received_time  BIGINT,  -- server_time of its first delivery
    decided_at     BIGINT,  -- c
    evidence_end   BIGINT,  -- e
    outcome        STRING,  -- auto | manual | merged
    category       STRING,
    `action`       STRING,
    target_user_id BIGINT,
    verify_start   BIGINT,  -- v; NULL unless auto
    verify_status  STRING,  -- resolved | escalated | ''
    handle_ms      BIGINT,
    `version`      BIGINT,
    is_deleted     TINYINT,
    lesson_id        BIGINT,  -- dimension columns (LIVE_CLASSROOM_CONTRACT.md C)
    lesson_date      DATE,
    room_role        STRING,
    expected_members BIGINT,
    tutor_id         BIGINT,
    class_id         BIGINT,
    org_node_id      BIGINT,
    dim_run_id       BIGINT,
    dim_status       STRING,  -- ok | room_unknown | member_unknown | lookup_timeout
    processed_at   TIMESTAMP_LTZ(3)
);
