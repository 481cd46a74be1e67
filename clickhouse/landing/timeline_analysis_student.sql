-- topic: timeline_analysis_student
-- grain: one row per classified student courseware event (cleaned by Flink job clean_timeline_client_topic)
CREATE TABLE IF NOT EXISTS ods.timeline_analysis_student
(
    sourceSplit String,
    sourceOffset Nullable(Int64) COMMENT 'Kafka offset; NULL for files',
    message_key Nullable(String) MATERIALIZED concat(replaceOne(sourceSplit, '/', '|'), '|', toString(sourceOffset)) COMMENT '<topic>|<partition>|<offset> of the source message (contract 1.1); NULL while its offset is unknown',
    messageCreateTime Int64 COMMENT 'server receive time, epoch ms',
    messageTimeStamp Int64 COMMENT 'client event time, epoch ms (the event time)',
    userId Int64,
    roomId Int64,
    role Int32,
    msgId Int64,
    msgType Int64,
    targetId String,
    targetType LowCardinality(String),
    action LowCardinality(String),
    subAction LowCardinality(String),
    pageIndex Nullable(Int64),
    event LowCardinality(String),
    ingestedAt DateTime64(3, 'UTC') COMMENT 'source file complete / Kafka timestamp',
    processedAt DateTime64(3, 'UTC') COMMENT 'Flink processing time',
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'ClickHouse insert time',
    -- include: kafka_provenance
)
ENGINE = MergeTree
PARTITION BY toDate(intDiv(messageTimeStamp, 1000), 'Asia/Shanghai')
ORDER BY (roomId, userId, messageTimeStamp)
-- include: deduplicated_inserts
