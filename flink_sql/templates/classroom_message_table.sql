-- A cleaned live-classroom message (LIVE_CLASSROOM_CONTRACT.md 0): the envelope every classroom
-- topic shares, then the message's own columns, then when it arrived and was processed; read back
-- with an event-time watermark on the client time. Arguments: table, the table's name; columns,
-- the message's own columns (each followed by a comma).
create table {table} (
    source_split     string,
    source_offset    bigint,  -- Kafka offset; NULL for files
    room_id          decimal(20, 0),  -- UInt64 in the warehouse
    user_id          bigint,
    `role`           string,  -- teacher | student | fm
    client_time      bigint,  -- epoch ms, the event time
    server_time      bigint,  -- epoch ms, receive time
{columns}
    ingested_at      timestamp_ltz(3),
    processed_at     timestamp_ltz(3),
    event_at as to_timestamp_ltz(client_time, 3),
    -- 4 s (configurable) keeps a client's send jitter out of late_events and the decision within
    -- the seed's 20 s (contract 0: the seed uses 6 s)
    watermark for event_at as event_at - interval '${LABEL_WATERMARK_DELAY_SECONDS}' second
);
