-- Flat room heartbeats: one row per valid room_heartbeat message. Written by the cleaning job as
-- JSON lines; read back by the presence job with an event-time watermark on server_time (the
-- heartbeat service's clock decides time-outs, LIVE_CLASSROOM_CONTRACT.md B.1).
CREATE TABLE room_heartbeat_clean (
    message_key  STRING,  -- <topic>|<split>|<position>
    source_split STRING,
    bid          BIGINT,
    room_id      STRING,
    uid          BIGINT,
    terminal     STRING,
    kind         STRING,  -- enter | beat | leave
    server_time  BIGINT,  -- epoch ms, the event time
    ingested_at  TIMESTAMP_LTZ(3),
    processed_at TIMESTAMP_LTZ(3),
    event_at AS TO_TIMESTAMP_LTZ(server_time, 3),
    -- 10 s (configurable) of disorder before a heartbeat is late (contract section 0)
    WATERMARK FOR event_at AS event_at - INTERVAL '${WATERMARK_DELAY_SECONDS}' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = 'room_heartbeat_clean',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP_SERVERS}',
    'properties.max.partition.fetch.bytes' = '${KAFKA_FETCH_PARTITION_BYTES}',
    'properties.linger.ms' = '${KAFKA_PRODUCER_LINGER_MS}',
    'properties.batch.size' = '${KAFKA_PRODUCER_BATCH_BYTES}',
    'properties.group.id' = '${KAFKA_GROUP_ID}',
    'properties.auto.offset.reset' = 'earliest',
    -- written in Flink transactions: read only committed ones (the client default reads aborted too)
    'properties.isolation.level' = 'read_committed',
    'scan.startup.mode' = 'group-offsets',
    -- a watermark after every record, not every 200 ms: "late" (behind the watermark when the
    -- heartbeat arrives, contract 0) then depends on arrival order alone, also in a fast replay
    'scan.watermark.emit.strategy' = 'on-event',
    'format' = 'json',
    'sink.delivery-guarantee' = 'exactly-once',
    'sink.transactional-id-prefix' = '${KAFKA_TRANSACTIONAL_ID_PREFIX}-room_heartbeat_clean'
);
