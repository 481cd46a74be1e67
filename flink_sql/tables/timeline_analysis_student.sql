-- Flat courseware events: one row per classified student event (camelCase as in the seed). Written
-- by the cleaning job as JSON lines; read back by the mart jobs with an event-time watermark: only
-- clean, natural events reach it, so a future timestamp can never move it.
-- role: event_stream
CREATE TABLE timeline_analysis_student (
    sourceSplit       STRING,  -- file (local) or topic partition (Kafka) of the source message
    sourceOffset      BIGINT,  -- Kafka offset; NULL for files
    messageCreateTime BIGINT,  -- createTime, server receive time (epoch ms)
    messageTimeStamp  BIGINT,  -- data.timestamp, client event time (epoch ms)
    userId            BIGINT,
    roomId            BIGINT,
    `role`            INT,
    msgId             BIGINT,
    msgType           BIGINT,
    targetId          STRING,
    targetType        STRING,
    `action`          STRING,
    subAction         STRING,
    pageIndex         BIGINT,
    `event`           STRING,
    ingestedAt        TIMESTAMP_LTZ(3),
    processedAt       TIMESTAMP_LTZ(3),
    event_at AS TO_TIMESTAMP_LTZ(messageTimeStamp, 3),  -- event time of the windowed marts
    -- Event times inside a topic are in order up to a 2 s jitter; 10 s (configurable) keeps
    -- that jitter out of late_events while anything minutes behind is late.
    WATERMARK FOR event_at AS event_at - INTERVAL '${WATERMARK_DELAY_SECONDS}' SECOND
);
