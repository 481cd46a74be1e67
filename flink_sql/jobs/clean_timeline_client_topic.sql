-- Cleans courseware signals (timeline_client_topic) into the flat event topic
-- timeline_analysis_student. Grain: one row per classified student event; rejections go to
-- rejected_messages, counts to topic_accounting. Rules: DATA_CONTRACT.md timeline_client_topic
-- (seed scene 1: its seven INSERTs become the one rules list below).

-- Parsing: parse_message (flink_sql/functions.sql, jvm/udf) reads each message once and returns
-- its typed fields plus a rejection reason, in this precedence: not exactly one JSON object ->
-- malformed_json; a NOT NULL field absent or null -> missing_field; a value its type does not take
-- (an object or array, a non-integer for a number) -> wrong_type. Then, on valid messages only:
-- client time more than 5 minutes after the server time -> future_timestamp (unnatural: rejected
-- here, before any watermark can see the event). The view is shared by the sinks (one parse).
CREATE TEMPORARY VIEW timeline_checked AS
SELECT
    message.payload, message.source_split, message.source_offset, message.ingested_at, message.processed_at,
    CASE
        WHEN parsed.reason IS NOT NULL THEN parsed.reason
        -- client_time - create_time > 300000 exactly: a difference beyond BIGINT wraps negative
        WHEN parsed.client_time > parsed.create_time
            AND (parsed.client_time - parsed.create_time > 300000 OR parsed.client_time - parsed.create_time < 0)
            THEN 'future_timestamp'
    END AS reason,
    parsed.create_time, parsed.client_time, parsed.user_id, parsed.room_id, parsed.`role`, parsed.msg_id, parsed.msg_type,
    parsed.target_id, parsed.target_type, parsed.action_text, parsed.sub_action, parsed.page_index
FROM timeline_client_topic AS message,
    LATERAL TABLE(parse_message(message.payload, '
        create_time  BIGINT  createTime                         NOT NULL,
        user_id      BIGINT  data.userid                        NOT NULL,
        room_id      BIGINT  data.roomid                        NOT NULL,
        client_time  BIGINT  data.timestamp                     NOT NULL,
        role         INT     data.role                          NOT NULL,
        msg_id       BIGINT  data.msgid                         NOT NULL,
        msg_type     BIGINT  data.msg.msgtype                   NOT NULL,
        target_id    STRING  data.msg.msg_data.target_id,
        target_type  STRING  data.msg.msg_data.target_type,
        action_text  STRING  data.msg.msg_data.action,
        sub_action   STRING  data.msg.msg_data.sub_action,
        page_index   BIGINT  data.msg.msg_data.page_index
    ')) AS parsed;

-- Student interaction events: msgid 305, msgtype 116, role 2, then the matching rule. The rules
-- are data, one row per event type ('*' matches anything): adding an event type is one row. The
-- array is unnested per candidate message, a stateless lookup (a join with a VALUES view, or an
-- array that does not depend on the message, is planned as a stateful join holding every event).
INSERT INTO timeline_analysis_student
SELECT
    checked.source_split, checked.create_time, checked.client_time, checked.user_id, checked.room_id, checked.`role`, checked.msg_id,
    checked.msg_type, checked.target_id, checked.target_type, checked.action_text, checked.sub_action, checked.page_index, event_rule.`event`,
    checked.ingested_at, checked.processed_at
FROM timeline_checked AS checked
CROSS JOIN UNNEST(
    CASE WHEN checked.reason IS NULL AND checked.msg_id = 305 AND checked.msg_type = 116 AND checked.`role` = 2 THEN ARRAY[
        --   event                   target_id  target_type  action   sub_action
        ROW('STUDENT_MOVE_PICTURE',  '*',       'shape',     'move',  '*'),
        ROW('STUDENT_HOVER_PICTURE', '*',       'shape',     'mouse', 'over'),
        ROW('STUDENT_LINE_DRAW',     '*',       'shape',     'add',   '*'),
        ROW('STUDENT_AUDIO_PLAY',    '*',       'template',  'audio', 'start'),
        ROW('STUDENT_AUDIO_PAUSE',   '*',       'template',  'audio', 'pause'),
        ROW('STUDENT_MATCH_WRONG',   'match',   'template',  'match', 'drop:wrong'),
        ROW('STUDENT_MATCH_CORRECT', 'match',   'template',  'match', 'drop:correct')
    ] END
) AS event_rule (`event`, target_id, target_type, `action`, sub_action)
WHERE event_rule.target_type = checked.target_type
    AND event_rule.`action` = checked.action_text
    AND event_rule.target_id IN ('*', checked.target_id)
    AND event_rule.sub_action IN ('*', checked.sub_action);

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
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected,
    MIN(source_offset) AS first_offset
FROM timeline_checked
GROUP BY source_split;

-- Counts only grow within a job's life (first_offset tells one run of the split from another),
-- so the newest row of a split and run is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, first_offset, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE timeline_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
