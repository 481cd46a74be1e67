-- Cleans the recorded-course client log (qos_log) into the flat topic qos_log_clean.
-- Grain: one row per valid message; rejected messages go to rejected_messages, counts to
-- topic_accounting. Rules: DATA_CONTRACT.md "qos_log" (seed scene 2 input).

-- Parsing as in clean_timeline_client_topic: one regex pass yields the scalar tokens; a line in the
-- canonical layout (contract key order, extra.msg optional) is rebuilt from them and, when equal to
-- the line, the tokens are exact. Other lines take JSON_VALUE in strict mode.
CREATE TEMPORARY VIEW qos_checked AS
SELECT
    payload, source_split, source_offset, ingested_at, processed_at,
    classroom_id_text AS classroom_id, user_type_text AS user_type, sub_event_text AS sub_event,
    -- Rejection precedence as in clean_timeline_client_topic; required: classroom_id, user_id,
    -- event_time, sub_event, extra.data_time.
    CASE
        WHEN CASE WHEN canonical THEN FALSE ELSE NOT (payload IS JSON OBJECT) END
            THEN 'malformed_json'
        WHEN classroom_id_text IS NULL OR user_id_text IS NULL OR event_time_text IS NULL
            OR sub_event_text IS NULL OR data_time_text IS NULL
            THEN CASE
                WHEN canonical THEN 'missing_field'
                WHEN (classroom_id_text IS NULL
                        AND JSON_QUERY(payload, 'strict $.classroom_id') IS NULL)
                    OR (user_id_text IS NULL AND JSON_QUERY(payload, 'strict $.user_id') IS NULL)
                    OR (event_time_text IS NULL
                        AND JSON_QUERY(payload, 'strict $.event_time') IS NULL)
                    OR (sub_event_text IS NULL
                        AND JSON_QUERY(payload, 'strict $.sub_event') IS NULL)
                    OR (data_time_text IS NULL
                        AND JSON_QUERY(payload, 'strict $.extra.data_time') IS NULL)
                    THEN 'missing_field'
                ELSE 'wrong_type'
            END
        WHEN TRY_CAST(user_id_text AS BIGINT) IS NULL
            OR TRY_CAST(event_time_text AS BIGINT) IS NULL
            OR TRY_CAST(data_time_text AS BIGINT) IS NULL
            OR (ppt_index_text IS NOT NULL AND TRY_CAST(ppt_index_text AS BIGINT) IS NULL)
            -- TRY_CAST also takes ' 1', '+1' and '1.5', which are not integers
            OR REGEXP(
                CONCAT_WS('', user_id_text, event_time_text, data_time_text, ppt_index_text),
                '[ +.]')
            OR CASE WHEN canonical OR ppt_index_text IS NOT NULL THEN FALSE
                ELSE JSON_QUERY(payload, 'strict $.extra.msg.pptIndex') IS NOT NULL
            END
            THEN 'wrong_type'
    END AS reason,
    TRY_CAST(user_id_text AS BIGINT) AS user_id,
    TRY_CAST(event_time_text AS BIGINT) AS event_time,
    TRY_CAST(data_time_text AS BIGINT) AS data_time,
    TRY_CAST(ppt_index_text AS BIGINT) AS ppt_index
FROM (
    SELECT
        m.payload, m.source_split, m.source_offset, m.ingested_at, m.processed_at, f.canonical,
        CASE WHEN f.canonical THEN f.classroom_id_token
            ELSE JSON_VALUE(m.payload, 'strict $.classroom_id')
        END AS classroom_id_text,
        CASE WHEN f.canonical THEN f.user_type_token
            ELSE JSON_VALUE(m.payload, 'strict $.user_type')
        END AS user_type_text,
        CASE WHEN f.canonical THEN f.user_id_token
            ELSE JSON_VALUE(m.payload, 'strict $.user_id')
        END AS user_id_text,
        CASE WHEN f.canonical THEN f.event_time_token
            ELSE JSON_VALUE(m.payload, 'strict $.event_time')
        END AS event_time_text,
        CASE WHEN f.canonical THEN f.sub_event_token
            ELSE JSON_VALUE(m.payload, 'strict $.sub_event')
        END AS sub_event_text,
        CASE WHEN f.canonical THEN f.data_time_token
            ELSE JSON_VALUE(m.payload, 'strict $.extra.data_time')
        END AS data_time_text,
        CASE WHEN f.canonical THEN f.ppt_index_token
            ELSE JSON_VALUE(m.payload, 'strict $.extra.msg.pptIndex')
        END AS ppt_index_text
    FROM qos_log AS m
    CROSS JOIN UNNEST(ARRAY[REGEXP_EXTRACT_ALL(
        m.payload, ':(-?(?:0|[1-9][0-9]*+)|"[^"\\\x00-\x1f]*+"|null|true|false)', 1
    )]) AS s (tokens)
    -- tokens: classroom_id, user_type, user_id, event_time, sub_event, data_time, [pptIndex]
    CROSS JOIN UNNEST(ARRAY[ROW(
        COALESCE(
            CASE CARDINALITY(tokens)
                WHEN 6 THEN CONCAT(
                    '{"classroom_id":', tokens[1], ',"user_type":', tokens[2],
                    ',"user_id":', tokens[3], ',"event_time":', tokens[4],
                    ',"sub_event":', tokens[5], ',"extra":{"data_time":', tokens[6], '}}')
                WHEN 7 THEN CONCAT(
                    '{"classroom_id":', tokens[1], ',"user_type":', tokens[2],
                    ',"user_id":', tokens[3], ',"event_time":', tokens[4],
                    ',"sub_event":', tokens[5], ',"extra":{"data_time":', tokens[6],
                    ',"msg":{"pptIndex":', tokens[7], '}}}')
            END = m.payload,
            FALSE),
        CASE tokens[1] WHEN 'null' THEN NULL ELSE REPLACE(tokens[1], '"', '') END,
        CASE tokens[2] WHEN 'null' THEN NULL ELSE REPLACE(tokens[2], '"', '') END,
        CASE tokens[3] WHEN 'null' THEN NULL ELSE REPLACE(tokens[3], '"', '') END,
        CASE tokens[4] WHEN 'null' THEN NULL ELSE REPLACE(tokens[4], '"', '') END,
        CASE tokens[5] WHEN 'null' THEN NULL ELSE REPLACE(tokens[5], '"', '') END,
        CASE tokens[6] WHEN 'null' THEN NULL ELSE REPLACE(tokens[6], '"', '') END,
        CASE tokens[7] WHEN 'null' THEN NULL ELSE REPLACE(tokens[7], '"', '') END
    )]) AS f (
        canonical, classroom_id_token, user_type_token, user_id_token, event_time_token,
        sub_event_token, data_time_token, ppt_index_token
    )
);

INSERT INTO qos_log_clean
SELECT
    source_split, classroom_id, user_type, user_id, event_time, sub_event, data_time, ppt_index,
    ingested_at, processed_at
FROM qos_checked
WHERE reason IS NULL;

INSERT INTO rejected_messages
SELECT 'qos_log', payload, reason, source_split, source_offset, ingested_at, processed_at
FROM qos_checked
WHERE reason IS NOT NULL;

CREATE TEMPORARY VIEW qos_split_counts AS
SELECT
    'qos_log' AS topic,
    source_split,
    COUNT(*) AS messages_read,
    COUNT(*) FILTER (WHERE reason IS NULL) AS accepted,
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected
FROM qos_checked
GROUP BY source_split;

-- Counts only grow, so the newest row of a split is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE qos_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
