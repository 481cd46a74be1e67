-- Mart: one row per presence session of a user in a room (insert-only, emitted once the watermark
-- has passed the session's end). LIVE_CLASSROOM_CONTRACT.md B.3.
CREATE TABLE room_presence_sessions (
    bid          BIGINT,
    room_id      STRING,
    uid          BIGINT,
    online_from  STRING,  -- business time zone, to the millisecond
    online_to    STRING,
    online_from_ms BIGINT,
    online_to_ms BIGINT,
    end_reason   STRING,  -- leave | timeout
    terminals    BIGINT,
    heartbeats   BIGINT,
    processed_at TIMESTAMP_LTZ(3)
) WITH (
    'connector' = 'kafka',
    'topic' = 'room_presence_sessions',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP_SERVERS}',
    'properties.linger.ms' = '${KAFKA_PRODUCER_LINGER_MS}',
    'properties.batch.size' = '${KAFKA_PRODUCER_BATCH_BYTES}',
    'format' = 'json',
    'sink.delivery-guarantee' = 'exactly-once',
    'sink.transactional-id-prefix' = '${KAFKA_TRANSACTIONAL_ID_PREFIX}-room_presence_sessions'
);
