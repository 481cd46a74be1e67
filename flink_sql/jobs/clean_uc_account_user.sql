-- Cleans user account snapshots (uc_account-user) into uc_account_user_clean. Grain: one row per
-- valid version; every version is kept with its position (message_seq) so the marts resolve the
-- latest one. Rejections go to rejected_messages, counts to topic_accounting. Rules:
-- DATA_CONTRACT.md, topic uc_account-user (seed scene 4).

-- Snapshot topics are small: every field takes the general path, JSON_VALUE in strict mode.
CREATE TEMPORARY VIEW user_checked AS
SELECT
    payload, source_split, source_offset, ingested_at, processed_at,
    JSON_VALUE(payload, 'strict $.id') AS id,
    JSON_VALUE(payload, 'strict $.name') AS `name`,
    JSON_VALUE(payload, 'strict $.register_date_time') AS register_date_time,
    JSON_VALUE(payload, 'strict $.status') AS `status`,
    JSON_VALUE(payload, 'strict $.update_time') AS update_time
FROM uc_account_user;

-- Rejection precedence: not a JSON object -> malformed_json; a required field absent or null ->
-- missing_field; a required field holding an object or array
-- -> wrong_type.
CREATE TEMPORARY VIEW user_verdicts AS
SELECT
    *,
    CASE
        WHEN NOT (payload IS JSON OBJECT) THEN 'malformed_json'
        WHEN id IS NULL
            OR `name` IS NULL
            OR register_date_time IS NULL
            OR `status` IS NULL
            OR update_time IS NULL
            THEN CASE
                WHEN (id IS NULL AND JSON_QUERY(payload, 'strict $.id') IS NULL)
                    OR (`name` IS NULL AND JSON_QUERY(payload, 'strict $.name') IS NULL)
                    OR (register_date_time IS NULL
                        AND JSON_QUERY(payload, 'strict $.register_date_time') IS NULL)
                    OR (`status` IS NULL AND JSON_QUERY(payload, 'strict $.status') IS NULL)
                    OR (update_time IS NULL AND JSON_QUERY(payload, 'strict $.update_time') IS NULL)
                    THEN 'missing_field'
                ELSE 'wrong_type'
            END
    END AS reason
FROM user_checked;

-- message_seq numbers the valid messages of each split in reading order (a file is read front to
-- back by one reader): the tie-break when two versions share an update_time.
INSERT INTO uc_account_user_clean
SELECT
    source_split, id, `name`, register_date_time, `status`, update_time,
    COUNT(*) OVER (
        PARTITION BY source_split ORDER BY processed_at
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ),
    ingested_at, processed_at
FROM user_verdicts
WHERE reason IS NULL;

INSERT INTO rejected_messages
SELECT 'uc_account-user', payload, reason, source_split, source_offset, ingested_at, processed_at
FROM user_verdicts
WHERE reason IS NOT NULL;

CREATE TEMPORARY VIEW user_split_counts AS
SELECT
    'uc_account-user' AS topic,
    source_split,
    COUNT(*) AS messages_read,
    COUNT(*) FILTER (WHERE reason IS NULL) AS accepted,
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected
FROM user_verdicts
GROUP BY source_split;

-- Counts only grow, so the newest row of a split is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE user_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
