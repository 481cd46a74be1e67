-- Mart: message gaps and losses per business day, room, user and terminal (upsert log keyed by
-- day, bid, room_id, uid, terminal; greatest version wins). LIVE_CLASSROOM_CONTRACT.md B.3.
-- role: output
CREATE TABLE room_message_loss_daily (
    `day`        STRING,  -- business date of server_time
    bid          BIGINT,
    room_id      STRING,
    uid          BIGINT,
    terminal     STRING,
    reports      BIGINT,
    max_msgid    BIGINT,
    gap_msgids   BIGINT,
    lost_msgids  BIGINT,
    gap_rate     DOUBLE,
    loss_rate    DOUBLE,
    `version`    BIGINT,
    is_deleted   TINYINT,
    processed_at TIMESTAMP_LTZ(3)
);
