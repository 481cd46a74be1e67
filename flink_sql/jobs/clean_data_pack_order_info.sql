-- Cleans consultant order follow-ups (data_pack_order_info) into data_pack_order_info_clean. Grain:
-- one row per valid version; every version is kept with its position (message_seq) so the marts
-- resolve the latest one. Rejections go to rejected_messages, counts to topic_accounting. Rules:
-- DATA_CONTRACT.md, topic data_pack_order_info (seed scene 4).

-- Snapshot topics are small: every field takes the general path, JSON_VALUE in strict mode.
CREATE TEMPORARY VIEW order_checked AS
SELECT
    payload, source_split, source_offset, ingested_at, processed_at,
    JSON_VALUE(payload, 'strict $.id') AS id,
    JSON_VALUE(payload, 'strict $.leads_flow_event_id') AS leads_flow_event_id,
    JSON_VALUE(payload, 'strict $.group_id') AS group_id,
    JSON_VALUE(payload, 'strict $.cc_id') AS cc_id_text,
    JSON_VALUE(payload, 'strict $.student_id') AS student_id,
    JSON_VALUE(payload, 'strict $.order_id') AS order_id,
    JSON_VALUE(payload, 'strict $.leads_id') AS leads_id,
    JSON_VALUE(payload, 'strict $.confirm_date_time') AS confirm_date_time,
    JSON_VALUE(payload, 'strict $.create_time') AS create_time,
    JSON_VALUE(payload, 'strict $.update_time') AS update_time,
    JSON_VALUE(payload, 'strict $.order_create_time') AS order_create_time,
    JSON_VALUE(payload, 'strict $.canceled_date_time') AS canceled_date_time,
    JSON_VALUE(payload, 'strict $.apply_refund_date') AS apply_refund_date,
    JSON_VALUE(payload, 'strict $.status') AS status_text
FROM data_pack_order_info;

-- Rejection precedence: not a JSON object -> malformed_json; a required field absent or null ->
-- missing_field; a required field holding an object or array, or a numeric field holding
-- anything but an integer (a JSON integer or a string of digits) -> wrong_type.
CREATE TEMPORARY VIEW order_verdicts AS
SELECT
    *,
    CASE
        WHEN NOT (payload IS JSON OBJECT) THEN 'malformed_json'
        WHEN id IS NULL
            OR cc_id_text IS NULL
            OR update_time IS NULL
            OR status_text IS NULL
            THEN CASE
                WHEN (id IS NULL AND JSON_QUERY(payload, 'strict $.id') IS NULL)
                    OR (cc_id_text IS NULL AND JSON_QUERY(payload, 'strict $.cc_id') IS NULL)
                    OR (update_time IS NULL AND JSON_QUERY(payload, 'strict $.update_time') IS NULL)
                    OR (status_text IS NULL AND JSON_QUERY(payload, 'strict $.status') IS NULL)
                    THEN 'missing_field'
                ELSE 'wrong_type'
            END
        WHEN NOT REGEXP(cc_id_text, '^-?[0-9]{1,18}$')
            OR NOT REGEXP(status_text, '^-?[0-9]{1,9}$')
            THEN 'wrong_type'
    END AS reason
FROM order_checked;

-- message_seq numbers the valid messages of each split in reading order (a file is read front to
-- back by one reader): the tie-break when two versions share an update_time.
INSERT INTO data_pack_order_info_clean
SELECT
    source_split, id, leads_flow_event_id, group_id, TRY_CAST(cc_id_text AS BIGINT), student_id,
    order_id, leads_id, confirm_date_time, create_time, update_time, order_create_time,
    canceled_date_time, apply_refund_date, TRY_CAST(status_text AS INT),
    COUNT(*) OVER (
        PARTITION BY source_split ORDER BY processed_at
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ),
    ingested_at, processed_at
FROM order_verdicts
WHERE reason IS NULL;

INSERT INTO rejected_messages
SELECT
    'data_pack_order_info', payload, reason, source_split, source_offset, ingested_at, processed_at
FROM order_verdicts
WHERE reason IS NOT NULL;

CREATE TEMPORARY VIEW order_split_counts AS
SELECT
    'data_pack_order_info' AS topic,
    source_split,
    COUNT(*) AS messages_read,
    COUNT(*) FILTER (WHERE reason IS NULL) AS accepted,
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected
FROM order_verdicts
GROUP BY source_split;

-- Counts only grow, so the newest row of a split is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE order_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
