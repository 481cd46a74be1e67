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
    m.payload, m.source_split, m.source_offset, m.ingested_at, m.processed_at,
    CASE
        WHEN p.reason IS NOT NULL THEN p.reason
        -- client_time - create_time > 300000 exactly: a difference beyond BIGINT wraps negative
        WHEN p.client_time > p.create_time
            AND (p.client_time - p.create_time > 300000 OR p.client_time - p.create_time < 0)
            THEN 'future_timestamp'
    END AS reason,
    p.create_time, p.client_time, p.user_id, p.room_id, p.`role`, p.msg_id, p.msg_type,
    p.target_id, p.target_type, p.action_text, p.sub_action, p.page_index
FROM timeline_client_topic AS m,
    LATERAL TABLE(parse_message(m.payload, '
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
    ')) AS p;

-- Student interaction events: msgid 305, msgtype 116, role 2, then the matching rule. The rules
-- are data, one row per event type ('*' matches anything): adding an event type is one row. The
-- array is unnested per candidate message, a stateless lookup (a join with a VALUES view, or an
-- array that does not depend on the message, is planned as a stateful join holding every event).
INSERT INTO timeline_analysis_student
SELECT
    c.source_split, c.source_offset, c.create_time, c.client_time, c.user_id, c.room_id, c.`role`,
    c.msg_id, c.msg_type, c.target_id, c.target_type, c.action_text, c.sub_action, c.page_index,
    r.`event`,
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

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (
    topic = 'timeline_client_topic', checked = 'timeline_checked'
);
