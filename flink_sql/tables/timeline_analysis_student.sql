-- Flat courseware events: one row per classified student event (camelCase as in the seed). Written
-- by the cleaning job as JSON lines; read back by the mart jobs with an event-time watermark: only
-- clean, natural events reach it, so a future timestamp can never move it.
-- role: event_stream
create table timeline_analysis_student (
    sourceSplit string,  -- file (local) or topic partition (Kafka) of the source message
    sourceOffset bigint,  -- Kafka offset; NULL for files
    messageCreateTime bigint,  -- createTime, server receive time (epoch ms)
    messageTimeStamp bigint,  -- data.timestamp, client event time (epoch ms)
    userId bigint,
    roomId bigint,
    `role` int,
    msgId bigint,
    msgType bigint,
    targetId string,
    targetType string,
    `action` string,
    subAction string,
    pageIndex bigint,
    `event` string,
    ingestedAt timestamp_ltz(3),
    processedAt timestamp_ltz(3),
    event_at as to_timestamp_ltz(messageTimeStamp, 3),  -- event time of the windowed marts
    -- Event times inside a topic are in order up to a 2 s jitter; 10 s (configurable) keeps
    -- that jitter out of late_events while anything minutes behind is late.
    watermark for event_at as event_at - interval '${WATERMARK_DELAY_SECONDS}' second
);
