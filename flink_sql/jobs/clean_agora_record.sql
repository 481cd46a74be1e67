-- Cleans live-class audio/video quality records (agora_record) into the flat topic
-- agora_record_clean. Grain: one row per valid record; rejected messages go to rejected_messages,
-- counts to topic_accounting. Rules: DATA_CONTRACT.md "agora_record" (seed scene 3 input).

-- Parsing as in clean_timeline_client_topic (parse_message: malformed_json, then missing_field,
-- then wrong_type). Required: event, user_type, messageCreateTime; either state object may be
-- absent; every numeric field, when present, must hold an integer.
create temporary view agora_checked as
select
    message.payload, message.source_split, message.source_offset, message.ingested_at, message.processed_at,
    parsed.reason, parsed.classroom_id, parsed.user_type, parsed.user_id, parsed.agora_channel_id, parsed.event_text,
    parsed.video_fr, parsed.video_uid, parsed.audio_lost, parsed.audio_uid, parsed.create_time
from agora_record as message,
    lateral table(parse_message(message.payload, '
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
    ')) as parsed;

insert into agora_record_clean
select
    source_split, source_offset, classroom_id, user_type, user_id, agora_channel_id, event_text,
    video_fr, video_uid, audio_lost, audio_uid, create_time, ingested_at, processed_at
from agora_checked
where reason is NULL;

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (topic = 'agora_record', checked = 'agora_checked');
