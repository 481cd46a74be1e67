-- Mart: one row per help request (first deliveries and merged presses) and detected ticket
-- (LIVE_CLASSROOM_CONTRACT.md A.4, A.5); an upsert log keyed by request_id, greatest version wins,
-- is_deleted marks a replaced row. Times are epoch ms.
-- role: output
apply template room_dimension_table (table = 'help_request_triage', columns = $$
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
$$);
