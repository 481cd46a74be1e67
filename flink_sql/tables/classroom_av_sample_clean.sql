-- Flat audio/video samples of what a user receives: one row per valid `classroom_av_sample` message, written by
-- clean_classroom_av_sample; read back with an event-time watermark (only natural events reach it).
-- role: label_input
CREATE TABLE classroom_av_sample_clean (
    source_split     STRING,
    source_offset    BIGINT,  -- Kafka offset; NULL for files
    room_id          DECIMAL(20, 0),  -- UInt64 in the warehouse
    user_id          BIGINT,
    `role`           STRING,  -- teacher | student | fm
    client_time      BIGINT,  -- epoch ms, the event time
    server_time      BIGINT,  -- epoch ms, receive time
    media            STRING,  -- audio | video
    interval_ms      BIGINT,  -- span covered
    bitrate_kbps     BIGINT,
    freeze_ms        BIGINT,
    loss_pct         BIGINT,
    rtt_ms           BIGINT,
    ingested_at      TIMESTAMP_LTZ(3),
    processed_at     TIMESTAMP_LTZ(3),
    event_at AS TO_TIMESTAMP_LTZ(client_time, 3),
    -- 4 s (configurable) keeps a client's send jitter out of late_events and the decision within
    -- the seed's 20 s (contract 0: the seed uses 6 s)
    WATERMARK FOR event_at AS event_at - INTERVAL '${LABEL_WATERMARK_DELAY_SECONDS}' SECOND
);
