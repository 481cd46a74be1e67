-- Cleans the channel dictionary (blink_stg_activity__channel_name_dictionary_da) into
-- channel_name_dictionary_clean. Grain: one row per valid version, each kept with its position
-- (message_seq) so the marts resolve the latest one. Rejections go to rejected_messages, counts to
-- topic_accounting. Rules: DATA_CONTRACT.md, the channel dictionary topic (seed scene 4).

-- Parsing: parse_message (flink_sql/functions.sql, jvm/udf) reads each message once: not exactly
-- one JSON object -> malformed_json; a NOT NULL field absent or null -> missing_field; a value its
-- type does not take (an object or array, a datetime that is not a real YYYY-MM-DD HH:MM:SS)
-- -> wrong_type.
CREATE TEMPORARY VIEW channel_checked AS
SELECT
    message.payload, message.source_split, message.source_offset, message.ingested_at, message.processed_at, parsed.reason,
    parsed.id, parsed.chinese_name, parsed.english_name, parsed.`level`, parsed.pid, parsed.create_time, parsed.update_time,
    parsed.dept_id
FROM channel_name_dictionary AS message,
    LATERAL TABLE(parse_message(message.payload, '
        id            ID        id            NOT NULL,
        chinese_name  STRING    chinese_name,
        english_name  STRING    english_name,
        level         STRING    level         NOT NULL,
        pid           ID        pid,
        create_time   DATETIME  create_time,
        update_time   DATETIME  update_time   NOT NULL,
        dept_id       ID        dept_id
    ')) AS parsed;

-- message_seq numbers the valid messages of each split in reading order (a file is read front to
-- back by one reader): the tie-break when two versions share an update_time.
INSERT INTO channel_name_dictionary_clean
SELECT
    source_split, source_offset, id, chinese_name, english_name, `level`, pid, create_time,
    update_time, dept_id,
    COUNT(*) OVER (
        PARTITION BY source_split ORDER BY processed_at
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ),
    ingested_at, processed_at
FROM channel_checked
WHERE reason IS NULL;

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (
    topic = 'blink_stg_activity__channel_name_dictionary_da', checked = 'channel_checked'
);
