-- Cleans what a user receives, audio and video samples (classroom_av_sample), into
-- classroom_av_sample_clean. Grain: one row per valid sample; rejected messages go to
-- rejected_messages, counts to topic_accounting. Rules: LIVE_CLASSROOM_CONTRACT.md 0, A.1 ("av").

-- Text of each field (strict JSON_VALUE: NULL when absent, null, an object or an array).
CREATE TEMPORARY VIEW av_fields AS
SELECT
    payload, source_split, source_offset, ingested_at, processed_at,
    payload IS JSON OBJECT AS is_object,
    JSON_VALUE(payload, 'strict $.room_id') AS room_id_text,
    JSON_VALUE(payload, 'strict $.user_id') AS user_id_text,
    JSON_VALUE(payload, 'strict $.role') AS role_text,
    JSON_VALUE(payload, 'strict $.client_time') AS client_time_text,
    JSON_VALUE(payload, 'strict $.server_time') AS server_time_text,
    JSON_VALUE(payload, 'strict $.media') AS media_text,
    JSON_VALUE(payload, 'strict $.interval_ms') AS interval_ms_text,
    JSON_VALUE(payload, 'strict $.bitrate_kbps') AS bitrate_kbps_text,
    JSON_VALUE(payload, 'strict $.freeze_ms') AS freeze_ms_text,
    JSON_VALUE(payload, 'strict $.loss_pct') AS loss_pct_text,
    JSON_VALUE(payload, 'strict $.rtt_ms') AS rtt_ms_text,
    -- JSON_EXISTS is FALSE for an absent field and for null: both are "missing"
    NOT JSON_EXISTS(payload, 'strict $.room_id')
        OR NOT JSON_EXISTS(payload, 'strict $.user_id')
        OR NOT JSON_EXISTS(payload, 'strict $.role')
        OR NOT JSON_EXISTS(payload, 'strict $.client_time')
        OR NOT JSON_EXISTS(payload, 'strict $.server_time')
        OR NOT JSON_EXISTS(payload, 'strict $.media')
        OR NOT JSON_EXISTS(payload, 'strict $.interval_ms')
        OR NOT JSON_EXISTS(payload, 'strict $.bitrate_kbps')
        OR NOT JSON_EXISTS(payload, 'strict $.freeze_ms')
        OR NOT JSON_EXISTS(payload, 'strict $.loss_pct')
        OR NOT JSON_EXISTS(payload, 'strict $.rtt_ms') AS required_missing
FROM classroom_av_sample;

CREATE TEMPORARY VIEW av_checked AS
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
                AND media_text IN ('audio', 'video')
                AND REGEXP(interval_ms_text, '^-?[0-9]{1,18}$') AND TRY_CAST(interval_ms_text AS BIGINT) > 0
                AND REGEXP(bitrate_kbps_text, '^-?[0-9]{1,18}$') AND TRY_CAST(bitrate_kbps_text AS BIGINT) >= 0
                AND REGEXP(freeze_ms_text, '^-?[0-9]{1,18}$') AND TRY_CAST(freeze_ms_text AS BIGINT) >= 0
                AND TRY_CAST(freeze_ms_text AS BIGINT) <= TRY_CAST(interval_ms_text AS BIGINT)
                AND REGEXP(loss_pct_text, '^-?[0-9]{1,18}$')
                AND TRY_CAST(loss_pct_text AS BIGINT) BETWEEN 0 AND 100
                AND REGEXP(rtt_ms_text, '^-?[0-9]{1,18}$') AND TRY_CAST(rtt_ms_text AS BIGINT) >= 0, FALSE)
            THEN 'wrong_type'
        WHEN TRY_CAST(client_time_text AS BIGINT) > TRY_CAST(server_time_text AS BIGINT) + 300000
            THEN 'future_timestamp'
    END AS reason
FROM av_fields;

INSERT INTO classroom_av_sample_clean
SELECT
    source_split, source_offset,
    TRY_CAST(room_id_text AS DECIMAL(20, 0)), TRY_CAST(user_id_text AS BIGINT), role_text,
    TRY_CAST(client_time_text AS BIGINT), TRY_CAST(server_time_text AS BIGINT),
    media_text, TRY_CAST(interval_ms_text AS BIGINT), TRY_CAST(bitrate_kbps_text AS BIGINT),
    TRY_CAST(freeze_ms_text AS BIGINT), TRY_CAST(loss_pct_text AS BIGINT),
    TRY_CAST(rtt_ms_text AS BIGINT),
    ingested_at, processed_at
FROM av_checked
WHERE reason IS NULL;

INSERT INTO rejected_messages
SELECT 'classroom_av_sample', payload, reason, source_split, source_offset, ingested_at, processed_at
FROM av_checked
WHERE reason IS NOT NULL;

CREATE TEMPORARY VIEW av_split_counts AS
SELECT
    'classroom_av_sample' AS topic,
    source_split,
    COUNT(*) AS messages_read,
    COUNT(*) FILTER (WHERE reason IS NULL) AS accepted,
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected
FROM av_checked
GROUP BY source_split;

-- Counts only grow, so the newest row of a split is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE av_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
