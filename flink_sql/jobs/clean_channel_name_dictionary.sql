-- Cleans the channel dictionary (blink_stg_activity__channel_name_dictionary_da) into
-- channel_name_dictionary_clean. Grain: one row per valid version, each kept with its position
-- (message_seq) so the marts resolve the latest one. Rejections go to rejected_messages, counts to
-- topic_accounting. Rules: DATA_CONTRACT.md, the channel dictionary topic (seed scene 4).

-- Snapshot topics are small: every field takes the general path, JSON_VALUE in strict mode.
CREATE TEMPORARY VIEW channel_checked AS
SELECT
    payload, source_split, source_offset, ingested_at, processed_at,
    JSON_VALUE(payload, 'strict $.id') AS id,
    JSON_VALUE(payload, 'strict $.chinese_name') AS chinese_name,
    JSON_VALUE(payload, 'strict $.english_name') AS english_name,
    JSON_VALUE(payload, 'strict $.level') AS `level`,
    JSON_VALUE(payload, 'strict $.pid') AS pid,
    JSON_VALUE(payload, 'strict $.create_time') AS create_time,
    JSON_VALUE(payload, 'strict $.update_time') AS update_time,
    JSON_VALUE(payload, 'strict $.dept_id') AS dept_id
FROM channel_name_dictionary;

-- Rejection precedence: not a JSON object -> malformed_json; a required field absent or null ->
-- missing_field; a required field holding an object or array
-- -> wrong_type.
CREATE TEMPORARY VIEW channel_verdicts AS
SELECT
    *,
    CASE
        WHEN NOT (payload IS JSON OBJECT) THEN 'malformed_json'
        WHEN id IS NULL
            OR `level` IS NULL
            OR update_time IS NULL
            THEN CASE
                WHEN (id IS NULL AND JSON_QUERY(payload, 'strict $.id') IS NULL)
                    OR (`level` IS NULL AND JSON_QUERY(payload, 'strict $.level') IS NULL)
                    OR (update_time IS NULL AND JSON_QUERY(payload, 'strict $.update_time') IS NULL)
                    THEN 'missing_field'
                ELSE 'wrong_type'
            END
    END AS reason
FROM channel_checked;

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
FROM channel_verdicts
WHERE reason IS NULL;

INSERT INTO rejected_messages
SELECT
    'blink_stg_activity__channel_name_dictionary_da', payload, reason, source_split, source_offset,
    ingested_at, processed_at
FROM channel_verdicts
WHERE reason IS NOT NULL;

CREATE TEMPORARY VIEW channel_split_counts AS
SELECT
    'blink_stg_activity__channel_name_dictionary_da' AS topic,
    source_split,
    COUNT(*) AS messages_read,
    COUNT(*) FILTER (WHERE reason IS NULL) AS accepted,
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected
FROM channel_verdicts
GROUP BY source_split;

-- Counts only grow, so the newest row of a split is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE channel_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
