-- Every valid user snapshot version (latest-version resolution happens downstream). Written by the
-- cleaning job as JSON lines; read back by the mart jobs.
-- role: clean_topic
CREATE TABLE uc_account_user_clean (
    source_split       STRING,
    source_offset      BIGINT,  -- Kafka offset; NULL for files
    id                 STRING,
    `name`             STRING,
    register_date_time STRING,
    `status`           STRING,
    update_time        STRING,
    -- position among the valid messages of its split: ties go to the later message
    message_seq        BIGINT,
    ingested_at        TIMESTAMP_LTZ(3),
    processed_at       TIMESTAMP_LTZ(3)
);
