-- Cleans user account snapshots (uc_account-user) into uc_account_user_clean. Grain: one row per
-- valid version; every version is kept with its position (message_seq) so the marts resolve the
-- latest one. Rejections go to rejected_messages, counts to topic_accounting. Rules:
-- DATA_CONTRACT.md, topic uc_account-user (seed scene 4).

-- Parsing: parse_message (flink_sql/functions.sql, jvm/udf) reads each message once: not exactly
-- one JSON object -> malformed_json; a NOT NULL field absent or null -> missing_field; a value its
-- type does not take (an object or array, a datetime that is not a real YYYY-MM-DD HH:MM:SS)
-- -> wrong_type.
create temporary view user_checked as
select
    message.payload, message.source_split, message.source_offset, message.ingested_at, message.processed_at, parsed.reason,
    parsed.id, parsed.`name`, parsed.register_date_time, parsed.`status`, parsed.update_time
from uc_account_user as message,
    lateral table(parse_message(message.payload, '
        id                  ID        id                  NOT NULL,
        name                STRING    name                NOT NULL,
        register_date_time  DATETIME  register_date_time  NOT NULL,
        status              STRING    status              NOT NULL,
        update_time         DATETIME  update_time         NOT NULL
    ')) as parsed;

-- message_seq numbers the valid messages of each split in reading order (a file is read front to
-- back by one reader): the tie-break when two versions share an update_time.
insert into uc_account_user_clean
select
    source_split, source_offset, id, `name`, register_date_time, `status`, update_time,
    count(*) over (
        partition by source_split order by processed_at
        rows between unbounded preceding and current row
    ),
    ingested_at, processed_at
from user_checked
where reason is NULL;

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (topic = 'uc_account-user', checked = 'user_checked');
