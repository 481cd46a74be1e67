-- Cleans the channel dictionary (blink_stg_activity__channel_name_dictionary_da) into
-- channel_name_dictionary_clean. Grain: one row per valid version, each kept with its position
-- (message_seq) so the marts resolve the latest one. Rejections go to rejected_messages, counts to
-- topic_accounting. Rules: DATA_CONTRACT.md, the channel dictionary topic (seed scene 4).

-- Parsing: parse_message (flink_sql/functions.sql, jvm/udf) reads each message once: not exactly
-- one JSON object -> malformed_json; a NOT NULL field absent or null -> missing_field; a value its
-- type does not take (an object or array, a datetime that is not a real YYYY-MM-DD HH:MM:SS)
-- -> wrong_type.
create temporary view channel_checked as
select
    message.payload, message.source_split, message.source_offset, message.ingested_at, message.processed_at, parsed.reason,
    parsed.id, parsed.chinese_name, parsed.english_name, parsed.`level`, parsed.pid, parsed.create_time, parsed.update_time,
    parsed.dept_id
from channel_name_dictionary as message,
    lateral table(parse_message(message.payload, '
        id            ID        id            NOT NULL,
        chinese_name  STRING    chinese_name,
        english_name  STRING    english_name,
        level         STRING    level         NOT NULL,
        pid           ID        pid,
        create_time   DATETIME  create_time,
        update_time   DATETIME  update_time   NOT NULL,
        dept_id       ID        dept_id
    ')) as parsed;

-- message_seq numbers the valid messages of each split in reading order (a file is read front to
-- back by one reader): the tie-break when two versions share an update_time.
insert into channel_name_dictionary_clean
select
    source_split, source_offset, id, chinese_name, english_name, `level`, pid, create_time,
    update_time, dept_id,
    count(*) over (
        partition by source_split order by processed_at
        rows between unbounded preceding and current row
    ),
    ingested_at, processed_at
from channel_checked
where reason is NULL;

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (
    topic = 'blink_stg_activity__channel_name_dictionary_da', checked = 'channel_checked'
);
