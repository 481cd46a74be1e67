-- Cleans the recorded-course client log (qos_log) into the flat topic qos_log_clean.
-- Grain: one row per valid message; rejected messages go to rejected_messages, counts to
-- topic_accounting. Rules: DATA_CONTRACT.md "qos_log" (seed scene 2 input).

-- Parsing as in clean_timeline_client_topic: one regex pass yields the scalar tokens; a line in the
-- canonical layout (contract key order, extra.msg optional) is rebuilt from them and, when equal to
-- the line, the tokens are exact. Other lines take JSON_VALUE in strict mode.
CREATE TEMPORARY VIEW qos_checked AS
SELECT
    m.payload, m.source_split, m.source_offset, m.ingested_at, m.processed_at,
    s3.classroom_id, s3.user_type, s3.sub_event,
    -- Rejection precedence as in clean_timeline_client_topic; required: classroom_id, user_id,
    -- event_time, sub_event, extra.data_time.
    CASE
        WHEN CASE WHEN canonical THEN FALSE ELSE NOT (m.payload IS JSON OBJECT) END
            THEN 'malformed_json'
        WHEN classroom_id IS NULL OR user_id_text IS NULL OR event_time_text IS NULL
            OR sub_event IS NULL OR data_time_text IS NULL
            THEN CASE
                WHEN canonical THEN 'missing_field'
                WHEN (classroom_id IS NULL
                        AND JSON_QUERY(m.payload, 'strict $.classroom_id') IS NULL)
                    OR (user_id_text IS NULL AND JSON_QUERY(m.payload, 'strict $.user_id') IS NULL)
                    OR (event_time_text IS NULL
                        AND JSON_QUERY(m.payload, 'strict $.event_time') IS NULL)
                    OR (sub_event IS NULL AND JSON_QUERY(m.payload, 'strict $.sub_event') IS NULL)
                    OR (data_time_text IS NULL
                        AND JSON_QUERY(m.payload, 'strict $.extra.data_time') IS NULL)
                    THEN 'missing_field'
                ELSE 'wrong_type'
            END
        WHEN NOT REGEXP(user_id_text, '^-?[0-9]{1,18}$')
            OR NOT REGEXP(event_time_text, '^-?[0-9]{1,18}$')
            OR NOT REGEXP(data_time_text, '^-?[0-9]{1,18}$')
            OR NOT COALESCE(REGEXP(ppt_index_text, '^-?[0-9]{1,18}$'), TRUE)
            OR CASE WHEN canonical OR ppt_index_text IS NOT NULL THEN FALSE
                ELSE JSON_QUERY(m.payload, 'strict $.extra.msg.pptIndex') IS NOT NULL END
            THEN 'wrong_type'
    END AS reason,
    TRY_CAST(user_id_text AS BIGINT) AS user_id,
    TRY_CAST(event_time_text AS BIGINT) AS event_time,
    TRY_CAST(data_time_text AS BIGINT) AS data_time,
    TRY_CAST(ppt_index_text AS BIGINT) AS ppt_index
FROM qos_log AS m
CROSS JOIN UNNEST(ARRAY[
    REGEXP_EXTRACT_ALL(m.payload, ':(-?(?:0|[1-9][0-9]*+)|"[^"\\\x00-\x1f]*+"|null|true|false)', 1)
]) AS s1 (tokens)
-- tokens: classroom_id, user_type, user_id, event_time, sub_event, data_time, [pptIndex]
CROSS JOIN UNNEST(ARRAY[
    COALESCE(
        POSITION('\' IN m.payload) = 0
        AND CASE CARDINALITY(tokens)
            WHEN 6 THEN CONCAT(
                '{"classroom_id":', tokens[1], ',"user_type":', tokens[2], ',"user_id":', tokens[3],
                ',"event_time":', tokens[4], ',"sub_event":', tokens[5],
                ',"extra":{"data_time":', tokens[6], '}}')
            WHEN 7 THEN CONCAT(
                '{"classroom_id":', tokens[1], ',"user_type":', tokens[2], ',"user_id":', tokens[3],
                ',"event_time":', tokens[4], ',"sub_event":', tokens[5],
                ',"extra":{"data_time":', tokens[6], ',"msg":{"pptIndex":', tokens[7], '}}}')
        END = m.payload,
        FALSE)
]) AS s2 (canonical)
-- Field texts: a token without its quotes (JSON null -> NULL) or the general path's value.
CROSS JOIN UNNEST(ARRAY[ROW(
    CASE WHEN NOT canonical THEN JSON_VALUE(m.payload, 'strict $.classroom_id')
        WHEN tokens[1] <> 'null' THEN REPLACE(tokens[1], '"', '') END,
    CASE WHEN NOT canonical THEN JSON_VALUE(m.payload, 'strict $.user_type')
        WHEN tokens[2] <> 'null' THEN REPLACE(tokens[2], '"', '') END,
    CASE WHEN NOT canonical THEN JSON_VALUE(m.payload, 'strict $.user_id')
        WHEN tokens[3] <> 'null' THEN REPLACE(tokens[3], '"', '') END,
    CASE WHEN NOT canonical THEN JSON_VALUE(m.payload, 'strict $.event_time')
        WHEN tokens[4] <> 'null' THEN REPLACE(tokens[4], '"', '') END,
    CASE WHEN NOT canonical THEN JSON_VALUE(m.payload, 'strict $.sub_event')
        WHEN tokens[5] <> 'null' THEN REPLACE(tokens[5], '"', '') END,
    CASE WHEN NOT canonical THEN JSON_VALUE(m.payload, 'strict $.extra.data_time')
        WHEN tokens[6] <> 'null' THEN REPLACE(tokens[6], '"', '') END,
    CASE WHEN NOT canonical THEN JSON_VALUE(m.payload, 'strict $.extra.msg.pptIndex')
        WHEN tokens[7] <> 'null' THEN REPLACE(tokens[7], '"', '') END
)]) AS s3 (
    classroom_id, user_type, user_id_text, event_time_text, sub_event, data_time_text,
    ppt_index_text
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
