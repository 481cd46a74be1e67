-- topic: timeline_analysis_student
-- grain: one row per classified student courseware event (cleaned by Flink job clean_timeline_client_topic)
create table if not exists ods.timeline_analysis_student
(
    sourceSplit String,
    sourceOffset Nullable(Int64) comment 'Kafka offset; NULL for files',
    message_key Nullable(String) materialized concat(replaceOne(sourceSplit, '/', '|'), '|', toString(sourceOffset)) comment '<topic>|<partition>|<offset> of the source message (contract 1.1); NULL while its offset is unknown',
    messageCreateTime Int64 comment 'server receive time, epoch ms',
    messageTimeStamp Int64 comment 'client event time, epoch ms (the event time)',
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
    ingestedAt DateTime64(3, 'UTC') comment 'source file complete / Kafka timestamp',
    processedAt DateTime64(3, 'UTC') comment 'Flink processing time',
    landed_at DateTime64(3, 'UTC') default now64(3) comment 'ClickHouse insert time',
    -- include: kafka_provenance
)
engine = MergeTree
partition by toDate(intDiv(messageTimeStamp, 1000), 'Asia/Shanghai')
order BY (roomId, userId, messageTimeStamp)
-- include: deduplicated_inserts
