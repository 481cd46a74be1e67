-- Cleans the recorded-course client log (qos_log) into the flat topic qos_log_clean.
-- Grain: one row per valid message; rejected messages go to rejected_messages, counts to
-- topic_accounting. Rules: DATA_CONTRACT.md "qos_log" (seed scene 2 input).

-- Parsing as in clean_timeline_client_topic (parse_message: malformed_json, then missing_field,
-- then wrong_type). Required: classroom_id, user_id, event_time, sub_event, extra.data_time.
create temporary view qos_checked as
select
    message.payload, message.source_split, message.source_offset, message.ingested_at, message.processed_at,
    parsed.reason, parsed.classroom_id, parsed.user_type, parsed.user_id, parsed.event_time, parsed.sub_event, parsed.data_time,
    parsed.ppt_index
from qos_log as message,
    lateral table(parse_message(message.payload, '
        classroom_id  ID      classroom_id       NOT NULL,
        user_type     STRING  user_type,
        user_id       BIGINT  user_id            NOT NULL,
        event_time    BIGINT  event_time         NOT NULL,
        sub_event     STRING  sub_event          NOT NULL,
        data_time     BIGINT  extra.data_time    NOT NULL,
        ppt_index     BIGINT  extra.msg.pptIndex
    ')) as parsed;

insert into qos_log_clean
select
    source_split, source_offset, classroom_id, user_type, user_id, event_time, sub_event, data_time,
    ppt_index,
    ingested_at, processed_at
from qos_checked
where reason is NULL;

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (topic = 'qos_log', checked = 'qos_checked');
