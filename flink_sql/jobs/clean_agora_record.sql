-- Cleans live-class audio/video quality records (agora_record) into the flat topic
-- agora_record_clean. Grain: one row per valid record; rejected messages go to rejected_messages,
-- counts to topic_accounting. Rules: DATA_CONTRACT.md "agora_record" (seed scene 3 input).

-- Parsing as in clean_timeline_client_topic (parse_message: malformed_json, then missing_field,
-- then wrong_type). Required: event, user_type, messageCreateTime; either state object may be
-- absent; every numeric field, when present, must hold an integer.
CREATE TEMPORARY VIEW agora_checked AS
SELECT
    message.payload, message.source_split, message.source_offset, message.ingested_at, message.processed_at,
    parsed.reason, parsed.classroom_id, parsed.user_type, parsed.user_id, parsed.agora_channel_id, parsed.event_text,
    parsed.video_fr, parsed.video_uid, parsed.audio_lost, parsed.audio_uid, parsed.create_time
FROM agora_record AS message,
    LATERAL TABLE(parse_message(message.payload, '
        classroom_id      ID      classroom_id,
        user_type         STRING  user_type           NOT NULL,
        user_id           BIGINT  user_id,
        agora_channel_id  BIGINT  agora_channel_id,
        event_text        STRING  event               NOT NULL,
        video_fr          BIGINT  agora_videoState.fr,
        video_uid         BIGINT  agora_videoState.uid,
        audio_lost        BIGINT  agora_audioState.lost,
        audio_uid         BIGINT  agora_audioState.uid,
        create_time       BIGINT  messageCreateTime   NOT NULL
    ')) AS parsed;

INSERT INTO agora_record_clean
SELECT
    source_split, classroom_id, user_type, user_id, agora_channel_id, event_text, video_fr,
    video_uid, audio_lost, audio_uid, create_time, ingested_at, processed_at
FROM agora_checked
WHERE reason IS NULL;

INSERT INTO rejected_messages
SELECT 'agora_record', payload, reason, source_split, source_offset, ingested_at, processed_at
FROM agora_checked
WHERE reason IS NOT NULL;

CREATE TEMPORARY VIEW agora_split_counts AS
SELECT
    'agora_record' AS topic,
    source_split,
    COUNT(*) AS messages_read,
    COUNT(*) FILTER (WHERE reason IS NULL) AS accepted,
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected,
    MIN(source_offset) AS first_offset
FROM agora_checked
GROUP BY source_split;

-- Counts only grow within a job's life (first_offset tells one run of the split from another),
-- so the newest row of a split and run is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, first_offset, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE agora_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
