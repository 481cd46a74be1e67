-- Help-button presses. Source topic `classroom_help_request` (LIVE_CLASSROOM_CONTRACT.md A.1). One message
-- per line, read as text (format raw) so the cleaning job can reject a bad line with a reason.
CREATE TABLE classroom_help_request (
    payload          STRING,  -- the raw line, parsed by the cleaning job
    source_split     STRING NOT NULL METADATA FROM 'file.path' VIRTUAL,
    -- the file's completion: its arrival
    ingested_at      TIMESTAMP_LTZ(3) NOT NULL
        METADATA FROM 'file.modification-time' VIRTUAL,
    source_offset AS CAST(NULL AS BIGINT),  -- files have no offset
    processed_at  AS PROCTIME()
) WITH (
    'connector' = 'filesystem',
    'path' = '${TOPICS_DIR}/classroom_help_request',
    'format' = 'raw'
);
