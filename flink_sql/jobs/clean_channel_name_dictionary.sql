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
    source_split, id, chinese_name, english_name, `level`, pid, create_time, update_time, dept_id,
    COUNT(*) OVER (
        PARTITION BY source_split ORDER BY processed_at
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ),
    ingested_at, processed_at
FROM channel_checked
WHERE reason IS NULL;

INSERT INTO rejected_messages
SELECT
    'blink_stg_activity__channel_name_dictionary_da', payload, reason, source_split, source_offset,
    ingested_at, processed_at
FROM channel_checked
WHERE reason IS NOT NULL;

CREATE TEMPORARY VIEW channel_split_counts AS
SELECT
    'blink_stg_activity__channel_name_dictionary_da' AS topic,
    source_split,
    COUNT(*) AS messages_read,
    COUNT(*) FILTER (WHERE reason IS NULL) AS accepted,
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected,
    MIN(source_offset) AS first_offset
FROM channel_checked
GROUP BY source_split;

-- Counts only grow within a job's life (first_offset tells one run of the split from another),
-- so the newest row of a split and run is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, first_offset, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE channel_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
