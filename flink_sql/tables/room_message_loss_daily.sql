-- Mart: message gaps and losses per business day, room, user and terminal (upsert log keyed by
-- day, bid, room_id, uid, terminal; greatest version wins). LIVE_CLASSROOM_CONTRACT.md B.3.
-- role: output
create table room_message_loss_daily (
    `day` string,  -- business date of server_time
    bid bigint,
    room_id string,
    uid bigint,
    terminal string,
    reports bigint,
    max_msgid bigint,
    gap_msgids bigint,
    lost_msgids bigint,
    gap_rate double,
    loss_rate double,
    `version` bigint,
    is_deleted tinyint,
    processed_at timestamp_ltz(3)
);
