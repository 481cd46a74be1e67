-- Mart: users present, peak online, sessions started and timeouts per room and minute
-- (insert-only, written once the watermark passes the minute's end). LIVE_CLASSROOM_CONTRACT.md B.3.
CREATE TABLE room_concurrency_1min (
    start_time       STRING,  -- business time zone, minute start
    end_time         STRING,
    start_time_ms    BIGINT,
    bid              BIGINT,
    room_id          STRING,
    users_present    BIGINT,
    peak_online      BIGINT,
    sessions_started BIGINT,
    timeouts         BIGINT,
    processed_at     TIMESTAMP_LTZ(3)
) WITH (
    'connector' = 'kafka',
    'topic' = 'room_concurrency_1min',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP_SERVERS}',
    'format' = 'json',
    'sink.delivery-guarantee' = 'exactly-once',
    -- above checkpoint interval + restart: a killed job's open transaction is aborted on
    -- restore, or by the broker after this timeout (readers are read_committed)
    'properties.transaction.timeout.ms' = '${KAFKA_TRANSACTION_TIMEOUT_MS}',
    'sink.transactional-id-prefix' = '${KAFKA_TRANSACTIONAL_ID_PREFIX}-room_concurrency_1min'
);
