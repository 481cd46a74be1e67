-- Flat room heartbeats: one row per valid room_heartbeat message. Written by the cleaning job as
-- JSON lines; read back by the presence job with an event-time watermark on server_time (the
-- heartbeat service's clock decides time-outs, LIVE_CLASSROOM_CONTRACT.md B.1).
-- role: clean_topic
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
);
