-- Every valid order follow-up version (latest-version resolution happens downstream). Written by
-- the cleaning job as JSON lines; read back by the mart jobs.
-- role: clean_topic
create table data_pack_order_info_clean (
    source_split string,
    source_offset bigint,  -- Kafka offset; NULL for files
    id string,
    leads_flow_event_id string,
    group_id string,
    cc_id bigint,
    student_id string,
    order_id string,
    leads_id string,
    confirm_date_time string,
    create_time string,
    update_time string,
    order_create_time string,
    canceled_date_time string,
    apply_refund_date string,
    `status` int,
    -- position among the valid messages of its split: ties go to the later message
    message_seq bigint,
    ingested_at timestamp_ltz(3),
    processed_at timestamp_ltz(3)
);
