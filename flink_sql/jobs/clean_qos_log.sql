-- Cleans the recorded-course client log (qos_log) into the flat topic qos_log_clean.
-- Grain: one row per valid message; rejected messages go to rejected_messages, counts to
-- topic_accounting. Rules: DATA_CONTRACT.md "qos_log" (seed scene 2 input).

-- Parsing as in clean_timeline_client_topic (parse_message: malformed_json, then missing_field,
-- then wrong_type). Required: classroom_id, user_id, event_time, sub_event, extra.data_time.
CREATE TEMPORARY VIEW qos_checked AS
SELECT
    message.payload, message.source_split, message.source_offset, message.ingested_at, message.processed_at,
    parsed.reason, parsed.classroom_id, parsed.user_type, parsed.user_id, parsed.event_time, parsed.sub_event, parsed.data_time,
    parsed.ppt_index
FROM qos_log AS message,
    LATERAL TABLE(parse_message(message.payload, '
        classroom_id  ID      classroom_id       NOT NULL,
        user_type     STRING  user_type,
        user_id       BIGINT  user_id            NOT NULL,
        event_time    BIGINT  event_time         NOT NULL,
        sub_event     STRING  sub_event          NOT NULL,
        data_time     BIGINT  extra.data_time    NOT NULL,
        ppt_index     BIGINT  extra.msg.pptIndex
    ')) AS parsed;

INSERT INTO qos_log_clean
SELECT
    source_split, classroom_id, user_type, user_id, event_time, sub_event, data_time, ppt_index,
    ingested_at, processed_at
FROM qos_checked
WHERE reason IS NULL;

INSERT INTO rejected_messages
SELECT 'qos_log', payload, reason, source_split, source_offset, ingested_at, processed_at
FROM qos_checked
WHERE reason IS NOT NULL;

CREATE TEMPORARY VIEW qos_split_counts AS
SELECT
    'qos_log' AS topic,
    source_split,
    COUNT(*) AS messages_read,
    COUNT(*) FILTER (WHERE reason IS NULL) AS accepted,
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected,
    MIN(source_offset) AS first_offset
FROM qos_checked
GROUP BY source_split;

-- Counts only grow within a job's life (first_offset tells one run of the split from another),
-- so the newest row of a split and run is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, first_offset, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE qos_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
