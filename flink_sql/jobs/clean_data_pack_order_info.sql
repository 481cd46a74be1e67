-- Cleans consultant order follow-ups (data_pack_order_info) into data_pack_order_info_clean. Grain:
-- one row per valid version; every version is kept with its position (message_seq) so the marts
-- resolve the latest one. Rejections go to rejected_messages, counts to topic_accounting. Rules:
-- DATA_CONTRACT.md, topic data_pack_order_info (seed scene 4).

-- Parsing: parse_message (flink_sql/functions.sql, jvm/udf) reads each message once: not exactly
-- one JSON object -> malformed_json; a NOT NULL field absent or null -> missing_field; a value its
-- type does not take (an object or array, a cc_id or status that is not an integer, a datetime
-- that is not a real YYYY-MM-DD HH:MM:SS) -> wrong_type. confirm_date_time may be null.
create temporary view order_checked as
select
    message.payload, message.source_split, message.source_offset, message.ingested_at, message.processed_at, parsed.reason,
    parsed.id, parsed.leads_flow_event_id, parsed.group_id, parsed.cc_id, parsed.student_id, parsed.order_id, parsed.leads_id,
    parsed.confirm_date_time, parsed.create_time, parsed.update_time, parsed.order_create_time, parsed.canceled_date_time,
    parsed.apply_refund_date, parsed.`status`
from data_pack_order_info as message,
    lateral table(parse_message(message.payload, '
        id                   ID        id                   NOT NULL,
        leads_flow_event_id  ID        leads_flow_event_id,
        group_id             ID        group_id,
        cc_id                BIGINT    cc_id                NOT NULL,
        student_id           ID        student_id,
        order_id             ID        order_id,
        leads_id             ID        leads_id,
        confirm_date_time    DATETIME  confirm_date_time,
        create_time          DATETIME  create_time,
        update_time          DATETIME  update_time          NOT NULL,
        order_create_time    DATETIME  order_create_time,
        canceled_date_time   DATETIME  canceled_date_time,
        apply_refund_date    DATETIME  apply_refund_date,
        status               INT       status               NOT NULL
    ')) as parsed;

-- message_seq numbers the valid messages of each split in reading order (a file is read front to
-- back by one reader): the tie-break when two versions share an update_time.
insert into data_pack_order_info_clean
select
    source_split, source_offset, id, leads_flow_event_id, group_id, cc_id, student_id,
    order_id, leads_id, confirm_date_time, create_time, update_time, order_create_time,
    canceled_date_time, apply_refund_date, `status`,
    count(*) over (
        partition by source_split order by processed_at
        rows between unbounded preceding and current row
    ),
    ingested_at, processed_at
from order_checked
where reason is NULL;

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (topic = 'data_pack_order_info', checked = 'order_checked');
