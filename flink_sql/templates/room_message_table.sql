-- A cleaned room message (LIVE_CLASSROOM_CONTRACT.md B.1): the key and fields every room topic
-- shares, then the message's own columns, then when it arrived and was processed. Arguments:
-- table, the table's name; columns, the message's own columns (each followed by a comma); time,
-- what follows processed_at (an event time and its watermark; default none).
create table {table} (
    message_key string,  -- <topic>|<split>|<position>
    source_split string,
    bid bigint,
    room_id string,
    uid bigint,
    terminal string,
{columns}
    ingested_at timestamp_ltz(3),
    processed_at timestamp_ltz(3){time:}
);
