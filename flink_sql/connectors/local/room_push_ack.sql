-- Client reports of pushed room messages (highest msgid held, msgids missing). Source topic `room_push_ack`. One message per line, read as text (format raw) so the cleaning
-- job can reject a bad line with a reason instead of a JSON format dropping it.
CREATE TABLE room_push_ack (
    payload          STRING,  -- the raw line, parsed by the cleaning job
    source_split     STRING NOT NULL METADATA FROM 'file.path' VIRTUAL,
    -- the file's completion: its arrival
    ingested_at      TIMESTAMP_LTZ(3) NOT NULL
        METADATA FROM 'file.modification-time' VIRTUAL,
    source_offset AS CAST(NULL AS BIGINT),  -- files have no offset
    processed_at  AS PROCTIME()
) WITH (
    'connector' = 'filesystem',
    'path' = '${TOPICS_DIR}/room_push_ack',
    'format' = 'raw'
);
