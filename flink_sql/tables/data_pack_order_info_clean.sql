-- Every valid order follow-up version (latest-version resolution happens downstream). Written by
-- the cleaning job as JSON lines; read back by the mart jobs.
-- role: clean_topic
CREATE TABLE data_pack_order_info_clean (
    source_split        STRING,
    source_offset       BIGINT,  -- Kafka offset; NULL for files
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
);
