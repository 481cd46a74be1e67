-- Mart: message gaps and losses per business day, room, user and terminal (upsert log keyed by
-- day, bid, room_id, uid, terminal; greatest version wins). LIVE_CLASSROOM_CONTRACT.md B.3.
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
) WITH (
    'connector' = 'kafka',
    'topic' = 'room_message_loss_daily',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP_SERVERS}',
    'properties.linger.ms' = '${KAFKA_PRODUCER_LINGER_MS}',
    'properties.batch.size' = '${KAFKA_PRODUCER_BATCH_BYTES}',
    'format' = 'json',
    'sink.delivery-guarantee' = 'exactly-once',
    'sink.transactional-id-prefix' = '${KAFKA_TRANSACTIONAL_ID_PREFIX}-room_message_loss_daily'
);
