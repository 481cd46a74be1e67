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
create temporary view timeline_checked as
select
    message.payload, message.source_split, message.source_offset, message.ingested_at,
    message.processed_at,
    case
        when parsed.reason is not NULL then parsed.reason
        -- client_time - create_time > 300000 exactly: a difference beyond BIGINT wraps negative
        when parsed.client_time > parsed.create_time
            and (
                parsed.client_time - parsed.create_time > 300000
                or parsed.client_time - parsed.create_time < 0
            )
            then 'future_timestamp'
    end as reason,
    parsed.create_time, parsed.client_time, parsed.user_id, parsed.room_id, parsed.`role`,
    parsed.msg_id, parsed.msg_type, parsed.target_id, parsed.target_type, parsed.action_text,
    parsed.sub_action, parsed.page_index
from timeline_client_topic as message,
    lateral table(parse_message(message.payload, '
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
    ')) as parsed;

-- Student interaction events: msgid 305, msgtype 116, role 2, then the matching rule. The rules
-- are data, one row per event type ('*' matches anything): adding an event type is one row. The
-- array is unnested per candidate message, a stateless lookup (a join with a VALUES view, or an
-- array that does not depend on the message, is planned as a stateful join holding every event).
insert into timeline_analysis_student
select
    checked.source_split, checked.source_offset, checked.create_time, checked.client_time,
    checked.user_id, checked.room_id, checked.`role`, checked.msg_id, checked.msg_type,
    checked.target_id, checked.target_type, checked.action_text, checked.sub_action,
    checked.page_index,
    event_rule.`event`,
    checked.ingested_at, checked.processed_at
from timeline_checked as checked
cross join unnest(
    case
        when checked.reason is NULL and checked.msg_id = 305 and checked.msg_type = 116
            and checked.`role` = 2 then ARRAY[
        --   event                   target_id  target_type  action   sub_action
        row('STUDENT_MOVE_PICTURE', '*', 'shape', 'move', '*'),
        row('STUDENT_HOVER_PICTURE', '*',       'shape',     'mouse', 'over'),
        row('STUDENT_LINE_DRAW',     '*',       'shape',     'add',   '*'),
        row('STUDENT_AUDIO_PLAY',    '*',       'template',  'audio', 'start'),
        row('STUDENT_AUDIO_PAUSE',   '*',       'template',  'audio', 'pause'),
        row('STUDENT_MATCH_WRONG',   'match',   'template',  'match', 'drop:wrong'),
        row('STUDENT_MATCH_CORRECT', 'match',   'template',  'match', 'drop:correct')
    ] end
) as event_rule (`event`, target_id, target_type, `action`, sub_action)
where event_rule.target_type = checked.target_type
    and event_rule.`action` = checked.action_text
    and event_rule.target_id in ('*', checked.target_id)
    and event_rule.sub_action in ('*', checked.sub_action);

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (
    topic = 'timeline_client_topic', checked = 'timeline_checked'
);
