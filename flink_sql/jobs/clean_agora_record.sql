-- Cleans live-class audio/video quality records (agora_record) into the flat topic
-- agora_record_clean. Grain: one row per valid record; rejected messages go to rejected_messages,
-- counts to topic_accounting. Rules: DATA_CONTRACT.md "agora_record" (seed scene 3 input).

-- Parsing as in clean_timeline_client_topic: one regex pass yields the scalar tokens; a line in the
-- canonical layout (contract key order, either state object optional) is rebuilt from them and,
-- when equal to the line, the tokens are exact. Other lines take JSON_VALUE in strict mode.
CREATE TEMPORARY VIEW agora_checked AS
SELECT
    m.payload, m.source_split, m.source_offset, m.ingested_at, m.processed_at,
    s4.classroom_id, s4.user_type, s4.event_text,
    -- Rejection precedence as in clean_timeline_client_topic; required: event, user_type,
    -- messageCreateTime; every numeric field, when present, must hold an integer.
    CASE
        WHEN CASE WHEN canonical THEN FALSE ELSE NOT (m.payload IS JSON OBJECT) END
            THEN 'malformed_json'
        WHEN event_text IS NULL OR user_type IS NULL OR create_time_text IS NULL
            THEN CASE
                WHEN canonical THEN 'missing_field'
                WHEN (event_text IS NULL AND JSON_QUERY(m.payload, 'strict $.event') IS NULL)
                    OR (user_type IS NULL AND JSON_QUERY(m.payload, 'strict $.user_type') IS NULL)
                    OR (create_time_text IS NULL
                        AND JSON_QUERY(m.payload, 'strict $.messageCreateTime') IS NULL)
                    THEN 'missing_field'
                ELSE 'wrong_type'
            END
        WHEN NOT REGEXP(create_time_text, '^-?[0-9]{1,18}$')
            OR NOT COALESCE(REGEXP(user_id_text, '^-?[0-9]{1,18}$'), TRUE)
            OR NOT COALESCE(REGEXP(channel_id_text, '^-?[0-9]{1,18}$'), TRUE)
            OR NOT COALESCE(REGEXP(fr_text, '^-?[0-9]{1,18}$'), TRUE)
            OR NOT COALESCE(REGEXP(video_uid_text, '^-?[0-9]{1,18}$'), TRUE)
            OR NOT COALESCE(REGEXP(lost_text, '^-?[0-9]{1,18}$'), TRUE)
            OR NOT COALESCE(REGEXP(audio_uid_text, '^-?[0-9]{1,18}$'), TRUE)
            THEN 'wrong_type'
        -- general path only: an optional field holding an object or array
        WHEN CASE WHEN canonical THEN FALSE ELSE
                JSON_QUERY(m.payload, 'strict $.classroom_id') IS NOT NULL
                OR JSON_QUERY(m.payload, 'strict $.user_id') IS NOT NULL
                OR JSON_QUERY(m.payload, 'strict $.agora_channel_id') IS NOT NULL
                OR JSON_QUERY(m.payload, 'strict $.agora_videoState.fr') IS NOT NULL
                OR JSON_QUERY(m.payload, 'strict $.agora_videoState.uid') IS NOT NULL
                OR JSON_QUERY(m.payload, 'strict $.agora_audioState.lost') IS NOT NULL
                OR JSON_QUERY(m.payload, 'strict $.agora_audioState.uid') IS NOT NULL
            END
            THEN 'wrong_type'
    END AS reason,
    TRY_CAST(user_id_text AS BIGINT) AS user_id,
    TRY_CAST(channel_id_text AS BIGINT) AS agora_channel_id,
    TRY_CAST(fr_text AS BIGINT) AS video_fr,
    TRY_CAST(video_uid_text AS BIGINT) AS video_uid,
    TRY_CAST(lost_text AS BIGINT) AS audio_lost,
    TRY_CAST(audio_uid_text AS BIGINT) AS audio_uid,
    TRY_CAST(create_time_text AS BIGINT) AS create_time
FROM agora_record AS m
CROSS JOIN UNNEST(ARRAY[
    REGEXP_EXTRACT_ALL(m.payload, ':(-?(?:0|[1-9][0-9]*+)|"[^"\\\x00-\x1f]*+"|null|true|false)', 1)
]) AS s1 (tokens)
-- tokens: classroom_id, user_type, user_id, agora_channel_id, event, [fr, uid], [lost, uid],
-- messageCreateTime; which state objects are present follows from the count (8: look at the line)
CROSS JOIN UNNEST(ARRAY[ROW(
    CASE
        WHEN CARDINALITY(tokens) = 10 THEN 6
        WHEN CARDINALITY(tokens) = 8 AND POSITION(',"agora_videoState":{' IN m.payload) > 0 THEN 6
    END,
    CASE
        WHEN CARDINALITY(tokens) = 10 THEN 8
        WHEN CARDINALITY(tokens) = 8 AND POSITION(',"agora_videoState":{' IN m.payload) = 0 THEN 6
    END
)]) AS s2 (video_at, audio_at)
CROSS JOIN UNNEST(ARRAY[
    COALESCE(
        POSITION('\' IN m.payload) = 0
        AND CONCAT(
            '{"classroom_id":', tokens[1], ',"user_type":', tokens[2], ',"user_id":', tokens[3],
            ',"agora_channel_id":', tokens[4], ',"event":', tokens[5],
            CASE WHEN video_at IS NULL THEN '' ELSE CONCAT(
                ',"agora_videoState":{"fr":', tokens[video_at],
                ',"uid":', tokens[video_at + 1], '}')
            END,
            CASE WHEN audio_at IS NULL THEN '' ELSE CONCAT(
                ',"agora_audioState":{"lost":', tokens[audio_at],
                ',"uid":', tokens[audio_at + 1], '}')
            END,
            ',"messageCreateTime":', tokens[CARDINALITY(tokens)], '}') = m.payload,
        FALSE)
]) AS s3 (canonical)
-- Field texts: a token without its quotes (JSON null -> NULL) or the general path's value.
CROSS JOIN UNNEST(ARRAY[ROW(
    CASE WHEN NOT canonical THEN JSON_VALUE(m.payload, 'strict $.classroom_id')
        WHEN tokens[1] <> 'null' THEN REPLACE(tokens[1], '"', '') END,
    CASE WHEN NOT canonical THEN JSON_VALUE(m.payload, 'strict $.user_type')
        WHEN tokens[2] <> 'null' THEN REPLACE(tokens[2], '"', '') END,
    CASE WHEN NOT canonical THEN JSON_VALUE(m.payload, 'strict $.user_id')
        WHEN tokens[3] <> 'null' THEN REPLACE(tokens[3], '"', '') END,
    CASE WHEN NOT canonical THEN JSON_VALUE(m.payload, 'strict $.agora_channel_id')
        WHEN tokens[4] <> 'null' THEN REPLACE(tokens[4], '"', '') END,
    CASE WHEN NOT canonical THEN JSON_VALUE(m.payload, 'strict $.event')
        WHEN tokens[5] <> 'null' THEN REPLACE(tokens[5], '"', '') END,
    CASE WHEN NOT canonical THEN JSON_VALUE(m.payload, 'strict $.agora_videoState.fr')
        WHEN tokens[video_at] <> 'null' THEN REPLACE(tokens[video_at], '"', '') END,
    CASE WHEN NOT canonical THEN JSON_VALUE(m.payload, 'strict $.agora_videoState.uid')
        WHEN tokens[video_at + 1] <> 'null' THEN REPLACE(tokens[video_at + 1], '"', '') END,
    CASE WHEN NOT canonical THEN JSON_VALUE(m.payload, 'strict $.agora_audioState.lost')
        WHEN tokens[audio_at] <> 'null' THEN REPLACE(tokens[audio_at], '"', '') END,
    CASE WHEN NOT canonical THEN JSON_VALUE(m.payload, 'strict $.agora_audioState.uid')
        WHEN tokens[audio_at + 1] <> 'null' THEN REPLACE(tokens[audio_at + 1], '"', '') END,
    CASE WHEN NOT canonical THEN JSON_VALUE(m.payload, 'strict $.messageCreateTime')
        WHEN tokens[CARDINALITY(tokens)] <> 'null'
            THEN REPLACE(tokens[CARDINALITY(tokens)], '"', '') END
)]) AS s4 (
    classroom_id, user_type, user_id_text, channel_id_text, event_text, fr_text, video_uid_text,
    lost_text, audio_uid_text, create_time_text
);

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
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected
FROM agora_checked
GROUP BY source_split;

-- Counts only grow, so the newest row of a split is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE agora_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
