-- Cleans live-class audio/video quality records (agora_record) into the flat topic
-- agora_record_clean. Grain: one row per valid record; rejected messages go to rejected_messages,
-- counts to topic_accounting. Rules: DATA_CONTRACT.md "agora_record" (seed scene 3 input).

-- Parsing as in clean_timeline_client_topic: one regex pass yields the scalar tokens; a line in
-- the canonical layout (contract key order, either state object optional) is rebuilt from them
-- and, when equal to the line, the tokens are exact. Other lines take JSON_VALUE in strict mode.
CREATE TEMPORARY VIEW agora_checked AS
SELECT
    payload, source_split, source_offset, ingested_at, processed_at,
    classroom_id_text AS classroom_id, user_type_text AS user_type, event_text,
    -- Rejection precedence as in clean_timeline_client_topic; required: event, user_type,
    -- messageCreateTime; every numeric field, when present, must hold an integer.
    CASE
        WHEN CASE WHEN canonical THEN FALSE ELSE NOT (payload IS JSON OBJECT) END
            THEN 'malformed_json'
        WHEN event_text IS NULL OR user_type_text IS NULL OR create_time_text IS NULL
            THEN CASE
                WHEN canonical THEN 'missing_field'
                WHEN (event_text IS NULL AND JSON_QUERY(payload, 'strict $.event') IS NULL)
                    OR (user_type_text IS NULL
                        AND JSON_QUERY(payload, 'strict $.user_type') IS NULL)
                    OR (create_time_text IS NULL
                        AND JSON_QUERY(payload, 'strict $.messageCreateTime') IS NULL)
                    THEN 'missing_field'
                ELSE 'wrong_type'
            END
        WHEN TRY_CAST(create_time_text AS BIGINT) IS NULL
            OR (user_id_text IS NOT NULL AND TRY_CAST(user_id_text AS BIGINT) IS NULL)
            OR (channel_id_text IS NOT NULL AND TRY_CAST(channel_id_text AS BIGINT) IS NULL)
            OR (fr_text IS NOT NULL AND TRY_CAST(fr_text AS BIGINT) IS NULL)
            OR (video_uid_text IS NOT NULL AND TRY_CAST(video_uid_text AS BIGINT) IS NULL)
            OR (lost_text IS NOT NULL AND TRY_CAST(lost_text AS BIGINT) IS NULL)
            OR (audio_uid_text IS NOT NULL AND TRY_CAST(audio_uid_text AS BIGINT) IS NULL)
            -- TRY_CAST also takes ' 1', '+1' and '1.5', which are not integers
            OR REGEXP(
                CONCAT_WS('', create_time_text, user_id_text, channel_id_text, fr_text,
                    video_uid_text, lost_text, audio_uid_text),
                '[ +.]')
            THEN 'wrong_type'
        -- general path only: an optional field holding an object or array
        WHEN CASE WHEN canonical THEN FALSE ELSE
                JSON_QUERY(payload, 'strict $.classroom_id') IS NOT NULL
                OR JSON_QUERY(payload, 'strict $.user_id') IS NOT NULL
                OR JSON_QUERY(payload, 'strict $.agora_channel_id') IS NOT NULL
                OR JSON_QUERY(payload, 'strict $.agora_videoState.fr') IS NOT NULL
                OR JSON_QUERY(payload, 'strict $.agora_videoState.uid') IS NOT NULL
                OR JSON_QUERY(payload, 'strict $.agora_audioState.lost') IS NOT NULL
                OR JSON_QUERY(payload, 'strict $.agora_audioState.uid') IS NOT NULL
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
FROM (
    SELECT
        m.payload, m.source_split, m.source_offset, m.ingested_at, m.processed_at, f.canonical,
        CASE WHEN f.canonical THEN f.classroom_id_token
            ELSE JSON_VALUE(m.payload, 'strict $.classroom_id')
        END AS classroom_id_text,
        CASE WHEN f.canonical THEN f.user_type_token
            ELSE JSON_VALUE(m.payload, 'strict $.user_type')
        END AS user_type_text,
        CASE WHEN f.canonical THEN f.user_id_token
            ELSE JSON_VALUE(m.payload, 'strict $.user_id')
        END AS user_id_text,
        CASE WHEN f.canonical THEN f.channel_id_token
            ELSE JSON_VALUE(m.payload, 'strict $.agora_channel_id')
        END AS channel_id_text,
        CASE WHEN f.canonical THEN f.event_token
            ELSE JSON_VALUE(m.payload, 'strict $.event')
        END AS event_text,
        CASE WHEN f.canonical THEN f.fr_token
            ELSE JSON_VALUE(m.payload, 'strict $.agora_videoState.fr')
        END AS fr_text,
        CASE WHEN f.canonical THEN f.video_uid_token
            ELSE JSON_VALUE(m.payload, 'strict $.agora_videoState.uid')
        END AS video_uid_text,
        CASE WHEN f.canonical THEN f.lost_token
            ELSE JSON_VALUE(m.payload, 'strict $.agora_audioState.lost')
        END AS lost_text,
        CASE WHEN f.canonical THEN f.audio_uid_token
            ELSE JSON_VALUE(m.payload, 'strict $.agora_audioState.uid')
        END AS audio_uid_text,
        CASE WHEN f.canonical THEN f.create_time_token
            ELSE JSON_VALUE(m.payload, 'strict $.messageCreateTime')
        END AS create_time_text
    FROM agora_record AS m
    CROSS JOIN UNNEST(ARRAY[REGEXP_EXTRACT_ALL(
        m.payload, ':(-?(?:0|[1-9][0-9]*+)|"[^"\\\x00-\x1f]*+"|null|true|false)', 1
    )]) AS s (tokens)
    -- tokens: classroom_id, user_type, user_id, agora_channel_id, event, [fr, uid], [lost, uid],
    -- messageCreateTime; which state objects are present follows from the count (8: look)
    CROSS JOIN UNNEST(ARRAY[ROW(
        CASE
            WHEN CARDINALITY(tokens) = 10 THEN 6
            WHEN CARDINALITY(tokens) = 8
                AND POSITION(',"agora_videoState":{' IN m.payload) > 0 THEN 6
        END,
        CASE
            WHEN CARDINALITY(tokens) = 10 THEN 8
            WHEN CARDINALITY(tokens) = 8
                AND POSITION(',"agora_videoState":{' IN m.payload) = 0 THEN 6
        END
    )]) AS p (video_at, audio_at)
    CROSS JOIN UNNEST(ARRAY[ROW(
        COALESCE(
            CONCAT(
                '{"classroom_id":', tokens[1], ',"user_type":', tokens[2],
                ',"user_id":', tokens[3], ',"agora_channel_id":', tokens[4],
                ',"event":', tokens[5],
                CASE WHEN video_at IS NULL THEN '' ELSE CONCAT(
                    ',"agora_videoState":{"fr":', tokens[video_at],
                    ',"uid":', tokens[video_at + 1], '}')
                END,
                CASE WHEN audio_at IS NULL THEN '' ELSE CONCAT(
                    ',"agora_audioState":{"lost":', tokens[audio_at],
                    ',"uid":', tokens[audio_at + 1], '}')
                END,
                ',"messageCreateTime":', tokens[CARDINALITY(tokens)], '}') = m.payload,
            FALSE),
        CASE tokens[1] WHEN 'null' THEN NULL ELSE REPLACE(tokens[1], '"', '') END,
        CASE tokens[2] WHEN 'null' THEN NULL ELSE REPLACE(tokens[2], '"', '') END,
        CASE tokens[3] WHEN 'null' THEN NULL ELSE REPLACE(tokens[3], '"', '') END,
        CASE tokens[4] WHEN 'null' THEN NULL ELSE REPLACE(tokens[4], '"', '') END,
        CASE tokens[5] WHEN 'null' THEN NULL ELSE REPLACE(tokens[5], '"', '') END,
        CASE tokens[video_at] WHEN 'null' THEN NULL ELSE REPLACE(tokens[video_at], '"', '') END,
        CASE tokens[video_at + 1] WHEN 'null' THEN NULL
            ELSE REPLACE(tokens[video_at + 1], '"', '') END,
        CASE tokens[audio_at] WHEN 'null' THEN NULL ELSE REPLACE(tokens[audio_at], '"', '') END,
        CASE tokens[audio_at + 1] WHEN 'null' THEN NULL
            ELSE REPLACE(tokens[audio_at + 1], '"', '') END,
        CASE tokens[CARDINALITY(tokens)] WHEN 'null' THEN NULL
            ELSE REPLACE(tokens[CARDINALITY(tokens)], '"', '') END
    )]) AS f (
        canonical, classroom_id_token, user_type_token, user_id_token, channel_id_token,
        event_token, fr_token, video_uid_token, lost_token, audio_uid_token, create_time_token
    )
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
