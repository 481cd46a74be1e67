-- Flat room heartbeats: one row per valid room_heartbeat message. Written by the cleaning job as
-- JSON lines; read back by the presence job with an event-time watermark on server_time (the
-- heartbeat service's clock decides time-outs, LIVE_CLASSROOM_CONTRACT.md B.1). An event stream:
-- each writer to its own partition, so a partition is silent only when its source splits are
-- (unkeyed, the producer's sticky partitioner left one silent for ~30 s at a time, holding the
-- watermark until the idle timeout: one paced minute 31.9 s late, issue 12).
-- role: event_stream
apply template room_message_table (table = 'room_heartbeat_clean', columns = '
    kind string,  -- enter | beat | leave
    server_time bigint,  -- epoch ms, the event time
', time = $$,
    event_at as to_timestamp_ltz(server_time, 3),
    -- 10 s (configurable) of disorder before a heartbeat is late (contract section 0)
    watermark for event_at as event_at - interval '${WATERMARK_DELAY_SECONDS}' second$$);
