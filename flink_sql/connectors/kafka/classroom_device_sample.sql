-- Device samples (microphone, speaker, camera, CPU). Source topic `classroom_device_sample` (LIVE_CLASSROOM_CONTRACT.md A.1). The record value
-- is read as text (format raw) so the cleaning job can reject a bad message with a reason.
CREATE TABLE classroom_device_sample (
    payload          STRING,  -- the raw record value, parsed by the cleaning job
    kafka_partition  INT NOT NULL METADATA FROM 'partition' VIRTUAL,
    source_offset    BIGINT NOT NULL METADATA FROM 'offset' VIRTUAL,
    ingested_at      TIMESTAMP_LTZ(3) NOT NULL METADATA FROM 'timestamp' VIRTUAL,  -- arrival
    source_split  AS CONCAT('classroom_device_sample/', CAST(kafka_partition AS STRING)),
    processed_at  AS PROCTIME()
) WITH (
    'connector' = 'kafka',
    'topic' = 'classroom_device_sample',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP_SERVERS}',
    'properties.max.partition.fetch.bytes' = '${KAFKA_FETCH_PARTITION_BYTES}',
    'properties.group.id' = '${KAFKA_GROUP_ID}',
    'properties.auto.offset.reset' = 'earliest',
    'scan.startup.mode' = 'group-offsets',
    'value.format' = 'raw'
);
