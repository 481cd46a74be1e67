-- Every valid order follow-up version (latest-version resolution happens downstream). Written by
-- the cleaning job as JSON lines; read back by the mart jobs.
CREATE TABLE data_pack_order_info_clean (
    source_split        STRING,
    id                  STRING,
    leads_flow_event_id STRING,
    group_id            STRING,
    cc_id               BIGINT,
    student_id          STRING,
    order_id            STRING,
    leads_id            STRING,
    confirm_date_time   STRING,
    create_time         STRING,
    update_time         STRING,
    order_create_time   STRING,
    canceled_date_time  STRING,
    apply_refund_date   STRING,
    `status`            INT,
    -- position among the valid messages of its split: ties go to the later message
    message_seq         BIGINT,
    ingested_at         TIMESTAMP_LTZ(3),
    processed_at        TIMESTAMP_LTZ(3)
) WITH (
    'connector' = 'kafka',
    'topic' = 'data_pack_order_info_clean',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP_SERVERS}',
    'properties.max.partition.fetch.bytes' = '${KAFKA_FETCH_PARTITION_BYTES}',
    'properties.linger.ms' = '${KAFKA_PRODUCER_LINGER_MS}',
    'properties.batch.size' = '${KAFKA_PRODUCER_BATCH_BYTES}',
    'properties.group.id' = '${KAFKA_GROUP_ID}',
    'properties.auto.offset.reset' = 'earliest',
    -- written in Flink transactions: read only committed ones (the client default reads aborted too)
    'properties.isolation.level' = 'read_committed',
    'scan.startup.mode' = 'group-offsets',
    'format' = 'json',
    'sink.delivery-guarantee' = 'exactly-once',
    -- above checkpoint interval + restart: a killed job's open transaction is aborted on
    -- restore, or by the broker after this timeout (readers are read_committed)
    'properties.transaction.timeout.ms' = '${KAFKA_TRANSACTION_TIMEOUT_MS}',
    'sink.transactional-id-prefix' = '${KAFKA_TRANSACTIONAL_ID_PREFIX}-data_pack_order_info_clean'
);
