-- Cleans device samples (classroom_device_sample: microphone, speaker, camera, CPU) into
-- classroom_device_sample_clean. Grain: one row per valid sample; rejected messages go to
-- rejected_messages, counts to topic_accounting. Rules: LIVE_CLASSROOM_CONTRACT.md 0, A.1.

-- Text of each field (strict JSON_VALUE: NULL when absent, null, an object or an array).
CREATE TEMPORARY VIEW device_fields AS
SELECT
    payload, source_split, source_offset, ingested_at, processed_at,
    payload IS JSON OBJECT AS is_object,
    JSON_VALUE(payload, 'strict $.room_id') AS room_id_text,
    JSON_VALUE(payload, 'strict $.user_id') AS user_id_text,
    JSON_VALUE(payload, 'strict $.role') AS role_text,
    JSON_VALUE(payload, 'strict $.client_time') AS client_time_text,
    JSON_VALUE(payload, 'strict $.server_time') AS server_time_text,
    JSON_VALUE(payload, 'strict $.mic') AS mic_text,
    JSON_VALUE(payload, 'strict $.speaker') AS speaker_text,
    JSON_VALUE(payload, 'strict $.camera') AS camera_text,
    JSON_VALUE(payload, 'strict $.cpu_pct') AS cpu_pct_text,
    -- JSON_EXISTS is FALSE for an absent field and for null: both are "missing"
    NOT JSON_EXISTS(payload, 'strict $.room_id')
        OR NOT JSON_EXISTS(payload, 'strict $.user_id')
        OR NOT JSON_EXISTS(payload, 'strict $.role')
        OR NOT JSON_EXISTS(payload, 'strict $.client_time')
        OR NOT JSON_EXISTS(payload, 'strict $.server_time')
        OR NOT JSON_EXISTS(payload, 'strict $.mic')
        OR NOT JSON_EXISTS(payload, 'strict $.speaker')
        OR NOT JSON_EXISTS(payload, 'strict $.camera')
        OR NOT JSON_EXISTS(payload, 'strict $.cpu_pct') AS required_missing
FROM classroom_device_sample;

CREATE TEMPORARY VIEW device_checked AS
SELECT
    *,
    CASE
        WHEN NOT is_object THEN 'malformed_json'
        WHEN required_missing THEN 'missing_field'
        -- ids and epochs are integers (JSON numbers or numeric strings), enums case-sensitive,
        -- numbers in their stated ranges; an optional field present and not null is checked too
        WHEN NOT COALESCE(
                REGEXP(room_id_text, '^[0-9]{1,20}$')
                AND TRY_CAST(room_id_text AS DECIMAL(20, 0)) <= CAST('18446744073709551615' AS DECIMAL(20, 0))
                AND REGEXP(user_id_text, '^-?[0-9]{1,18}$')
                AND role_text IN ('teacher', 'student', 'fm')
                AND REGEXP(client_time_text, '^-?[0-9]{1,18}$')
                AND REGEXP(server_time_text, '^-?[0-9]{1,18}$')
                AND mic_text IN ('ok', 'missing', 'denied', 'error')
                AND speaker_text IN ('ok', 'missing', 'denied', 'error')
                AND camera_text IN ('ok', 'missing', 'denied', 'error')
                AND REGEXP(cpu_pct_text, '^-?[0-9]{1,18}$')
                AND TRY_CAST(cpu_pct_text AS BIGINT) BETWEEN 0 AND 100, FALSE)
            THEN 'wrong_type'
        WHEN TRY_CAST(client_time_text AS BIGINT) > TRY_CAST(server_time_text AS BIGINT) + 300000
            THEN 'future_timestamp'
    END AS reason
FROM device_fields;

INSERT INTO classroom_device_sample_clean
SELECT
    source_split, source_offset,
    TRY_CAST(room_id_text AS DECIMAL(20, 0)), TRY_CAST(user_id_text AS BIGINT), role_text,
    TRY_CAST(client_time_text AS BIGINT), TRY_CAST(server_time_text AS BIGINT),
    mic_text, speaker_text, camera_text, TRY_CAST(cpu_pct_text AS BIGINT),
    ingested_at, processed_at
FROM device_checked
WHERE reason IS NULL;

INSERT INTO rejected_messages
SELECT 'classroom_device_sample', payload, reason, source_split, source_offset, ingested_at, processed_at
FROM device_checked
WHERE reason IS NOT NULL;

CREATE TEMPORARY VIEW device_split_counts AS
SELECT
    'classroom_device_sample' AS topic,
    source_split,
    COUNT(*) AS messages_read,
    COUNT(*) FILTER (WHERE reason IS NULL) AS accepted,
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected
FROM device_checked
GROUP BY source_split;

-- Counts only grow, so the newest row of a split is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE device_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
