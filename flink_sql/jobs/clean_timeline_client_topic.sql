-- Cleans courseware signals (timeline_client_topic) into the flat event topic
-- timeline_analysis_student. Grain: one row per classified student event; rejections go to
-- rejected_messages, counts to topic_accounting. Rules: DATA_CONTRACT.md timeline_client_topic
-- (seed scene 1: its seven INSERTs become the one rules list below).

-- Parsing. One regex pass splits the raw line into its scalar value tokens (strings keep their
-- quotes and may not contain escapes). A line in the canonical layout (contract key order, compact
-- separators) is rebuilt from its tokens; when the rebuilt text equals the line, the tokens are the
-- exact JSON values and no JSON parser runs. Any other line takes the general path: JSON_VALUE in
-- strict mode, one call per field. The UNNEST(ARRAY[...]) stages materialise a step once per
-- message (the planner would otherwise inline it into every use); the view is shared by the sinks.
CREATE TEMPORARY VIEW timeline_checked AS
SELECT
    payload, source_split, source_offset, ingested_at, processed_at,
    target_id_text AS target_id, target_type_text AS target_type, action_text,
    sub_action_text AS sub_action,
    -- Rejection precedence (as the generator's manifest states it): not a JSON object ->
    -- malformed_json; a required field absent or null -> missing_field; a numeric field holding
    -- anything but an integer (a JSON integer or a string of digits) -> wrong_type; client time
    -- more than 5 minutes after the server time -> future_timestamp. Nested CASEs keep the
    -- general-path checks lazy (AND / OR evaluate both sides).
    CASE
        WHEN CASE WHEN canonical THEN FALSE ELSE NOT (payload IS JSON OBJECT) END
            THEN 'malformed_json'
        WHEN create_time_text IS NULL OR user_id_text IS NULL OR room_id_text IS NULL
            OR client_time_text IS NULL OR role_text IS NULL OR msg_id_text IS NULL
            OR msg_type_text IS NULL
            THEN CASE
                WHEN canonical THEN 'missing_field'
                -- general path: a required field holding an object or array is present, with
                -- the wrong type
                WHEN (create_time_text IS NULL
                        AND JSON_QUERY(payload, 'strict $.createTime') IS NULL)
                    OR (user_id_text IS NULL
                        AND JSON_QUERY(payload, 'strict $.data.userid') IS NULL)
                    OR (room_id_text IS NULL
                        AND JSON_QUERY(payload, 'strict $.data.roomid') IS NULL)
                    OR (client_time_text IS NULL
                        AND JSON_QUERY(payload, 'strict $.data.timestamp') IS NULL)
                    OR (role_text IS NULL
                        AND JSON_QUERY(payload, 'strict $.data.role') IS NULL)
                    OR (msg_id_text IS NULL
                        AND JSON_QUERY(payload, 'strict $.data.msgid') IS NULL)
                    OR (msg_type_text IS NULL
                        AND JSON_QUERY(payload, 'strict $.data.msg.msgtype') IS NULL)
                    THEN 'missing_field'
                ELSE 'wrong_type'
            END
        WHEN TRY_CAST(create_time_text AS BIGINT) IS NULL
            OR TRY_CAST(user_id_text AS BIGINT) IS NULL
            OR TRY_CAST(room_id_text AS BIGINT) IS NULL
            OR TRY_CAST(client_time_text AS BIGINT) IS NULL
            OR TRY_CAST(role_text AS INT) IS NULL
            OR TRY_CAST(msg_id_text AS BIGINT) IS NULL
            OR TRY_CAST(msg_type_text AS BIGINT) IS NULL
            OR (page_index_text IS NOT NULL AND TRY_CAST(page_index_text AS BIGINT) IS NULL)
            -- TRY_CAST also takes ' 1', '+1' and '1.5', which are not integers
            OR REGEXP(
                CONCAT_WS('', create_time_text, user_id_text, room_id_text, client_time_text,
                    role_text, msg_id_text, msg_type_text, page_index_text),
                '[ +.]')
            OR CASE WHEN canonical OR page_index_text IS NOT NULL THEN FALSE
                ELSE JSON_QUERY(payload, 'strict $.data.msg.msg_data.page_index') IS NOT NULL
            END
            THEN 'wrong_type'
        -- unnatural (client clock skew): rejected here, before any watermark can see the event
        WHEN CAST(client_time_text AS BIGINT) - CAST(create_time_text AS BIGINT) > 300000
            THEN 'future_timestamp'
    END AS reason,
    TRY_CAST(create_time_text AS BIGINT) AS create_time,
    TRY_CAST(client_time_text AS BIGINT) AS client_time,
    TRY_CAST(user_id_text AS BIGINT) AS user_id,
    TRY_CAST(room_id_text AS BIGINT) AS room_id,
    TRY_CAST(role_text AS INT) AS `role`,
    TRY_CAST(msg_id_text AS BIGINT) AS msg_id,
    TRY_CAST(msg_type_text AS BIGINT) AS msg_type,
    TRY_CAST(page_index_text AS BIGINT) AS page_index
FROM (
    SELECT
        m.payload, m.source_split, m.source_offset, m.ingested_at, m.processed_at, f.canonical,
        CASE WHEN f.canonical THEN f.create_time_token
            ELSE JSON_VALUE(m.payload, 'strict $.createTime')
        END AS create_time_text,
        CASE WHEN f.canonical THEN f.user_id_token
            ELSE JSON_VALUE(m.payload, 'strict $.data.userid')
        END AS user_id_text,
        CASE WHEN f.canonical THEN f.room_id_token
            ELSE JSON_VALUE(m.payload, 'strict $.data.roomid')
        END AS room_id_text,
        CASE WHEN f.canonical THEN f.client_time_token
            ELSE JSON_VALUE(m.payload, 'strict $.data.timestamp')
        END AS client_time_text,
        CASE WHEN f.canonical THEN f.role_token
            ELSE JSON_VALUE(m.payload, 'strict $.data.role')
        END AS role_text,
        CASE WHEN f.canonical THEN f.msg_id_token
            ELSE JSON_VALUE(m.payload, 'strict $.data.msgid')
        END AS msg_id_text,
        CASE WHEN f.canonical THEN f.msg_type_token
            ELSE JSON_VALUE(m.payload, 'strict $.data.msg.msgtype')
        END AS msg_type_text,
        CASE WHEN f.canonical THEN f.target_id_token
            ELSE JSON_VALUE(m.payload, 'strict $.data.msg.msg_data.target_id')
        END AS target_id_text,
        CASE WHEN f.canonical THEN f.target_type_token
            ELSE JSON_VALUE(m.payload, 'strict $.data.msg.msg_data.target_type')
        END AS target_type_text,
        CASE WHEN f.canonical THEN f.action_token
            ELSE JSON_VALUE(m.payload, 'strict $.data.msg.msg_data.action')
        END AS action_text,
        CASE WHEN f.canonical THEN f.sub_action_token
            ELSE JSON_VALUE(m.payload, 'strict $.data.msg.msg_data.sub_action')
        END AS sub_action_text,
        CASE WHEN f.canonical THEN f.page_index_token
            ELSE JSON_VALUE(m.payload, 'strict $.data.msg.msg_data.page_index')
        END AS page_index_text
    FROM timeline_client_topic AS m
    CROSS JOIN UNNEST(ARRAY[REGEXP_EXTRACT_ALL(
        m.payload, ':(-?(?:0|[1-9][0-9]*+)|"[^"\\\x00-\x1f]*+"|null|true|false)', 1
    )]) AS s (tokens)
    -- canonical: the line is exactly the layout rebuilt from its tokens; a token's text is the
    -- token without quotes (JSON null -> NULL)
    CROSS JOIN UNNEST(ARRAY[ROW(
        COALESCE(
            CASE CARDINALITY(tokens)
                WHEN 12 THEN CONCAT(
                    '{"createTime":', tokens[1], ',"data":{"userid":', tokens[2],
                    ',"roomid":', tokens[3], ',"timestamp":', tokens[4], ',"role":', tokens[5],
                    ',"msgid":', tokens[6], ',"msg":{"msgtype":', tokens[7],
                    ',"msg_data":{"target_id":', tokens[8], ',"target_type":', tokens[9],
                    ',"action":', tokens[10], ',"sub_action":', tokens[11],
                    ',"page_index":', tokens[12], '}}}}')
                WHEN 7 THEN CONCAT(
                    '{"createTime":', tokens[1], ',"data":{"userid":', tokens[2],
                    ',"roomid":', tokens[3], ',"timestamp":', tokens[4], ',"role":', tokens[5],
                    ',"msgid":', tokens[6], ',"msg":{"msgtype":', tokens[7], '}}}')
            END = m.payload,
            FALSE),
        CASE tokens[1] WHEN 'null' THEN NULL ELSE REPLACE(tokens[1], '"', '') END,
        CASE tokens[2] WHEN 'null' THEN NULL ELSE REPLACE(tokens[2], '"', '') END,
        CASE tokens[3] WHEN 'null' THEN NULL ELSE REPLACE(tokens[3], '"', '') END,
        CASE tokens[4] WHEN 'null' THEN NULL ELSE REPLACE(tokens[4], '"', '') END,
        CASE tokens[5] WHEN 'null' THEN NULL ELSE REPLACE(tokens[5], '"', '') END,
        CASE tokens[6] WHEN 'null' THEN NULL ELSE REPLACE(tokens[6], '"', '') END,
        CASE tokens[7] WHEN 'null' THEN NULL ELSE REPLACE(tokens[7], '"', '') END,
        CASE tokens[8] WHEN 'null' THEN NULL ELSE REPLACE(tokens[8], '"', '') END,
        CASE tokens[9] WHEN 'null' THEN NULL ELSE REPLACE(tokens[9], '"', '') END,
        CASE tokens[10] WHEN 'null' THEN NULL ELSE REPLACE(tokens[10], '"', '') END,
        CASE tokens[11] WHEN 'null' THEN NULL ELSE REPLACE(tokens[11], '"', '') END,
        CASE tokens[12] WHEN 'null' THEN NULL ELSE REPLACE(tokens[12], '"', '') END
    )]) AS f (
        canonical,
        create_time_token, user_id_token, room_id_token, client_time_token, role_token,
        msg_id_token, msg_type_token, target_id_token, target_type_token, action_token,
        sub_action_token, page_index_token
    )
);

-- Student interaction events: msgid 305, msgtype 116, role 2, then the matching rule. The rules
-- are data, one row per event type ('*' matches anything): adding an event type is one row. The
-- array is unnested per candidate message, a stateless lookup (a join with a VALUES view, or an
-- array that does not depend on the message, is planned as a stateful join holding every event).
INSERT INTO timeline_analysis_student
SELECT
    c.source_split, c.create_time, c.client_time, c.user_id, c.room_id, c.`role`, c.msg_id,
    c.msg_type, c.target_id, c.target_type, c.action_text, c.sub_action, c.page_index, r.`event`,
    c.ingested_at, c.processed_at
FROM timeline_checked AS c
CROSS JOIN UNNEST(
    CASE WHEN c.reason IS NULL AND c.msg_id = 305 AND c.msg_type = 116 AND c.`role` = 2 THEN ARRAY[
        --   event                   target_id  target_type  action   sub_action
        ROW('STUDENT_MOVE_PICTURE',  '*',       'shape',     'move',  '*'),
        ROW('STUDENT_HOVER_PICTURE', '*',       'shape',     'mouse', 'over'),
        ROW('STUDENT_LINE_DRAW',     '*',       'shape',     'add',   '*'),
        ROW('STUDENT_AUDIO_PLAY',    '*',       'template',  'audio', 'start'),
        ROW('STUDENT_AUDIO_PAUSE',   '*',       'template',  'audio', 'pause'),
        ROW('STUDENT_MATCH_WRONG',   'match',   'template',  'match', 'drop:wrong'),
        ROW('STUDENT_MATCH_CORRECT', 'match',   'template',  'match', 'drop:correct')
    ] END
) AS r (`event`, target_id, target_type, `action`, sub_action)
WHERE r.target_type = c.target_type
    AND r.`action` = c.action_text
    AND r.target_id IN ('*', c.target_id)
    AND r.sub_action IN ('*', c.sub_action);

INSERT INTO rejected_messages
SELECT
    'timeline_client_topic', payload, reason, source_split, source_offset, ingested_at, processed_at
FROM timeline_checked
WHERE reason IS NOT NULL;

CREATE TEMPORARY VIEW timeline_split_counts AS
SELECT
    'timeline_client_topic' AS topic,
    source_split,
    COUNT(*) AS messages_read,
    COUNT(*) FILTER (WHERE reason IS NULL) AS accepted,
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected
FROM timeline_checked
GROUP BY source_split;

-- Counts only grow, so the newest row of a split is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE timeline_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
