-- Student audio/video quality per 30-second tumbling window on messageCreateTime, offline.
-- Grain: start_time x user x channel x classroom x uid x event. Contract: av_quality_30s.
-- A record feeds the audio metric when lost >= 0 and the video metric when fr >= 0.
{{ config(
    materialized='incremental',
    partition_by='toDate(start_time)',
    order_by='(start_time, classroom_id, user_id, web_server_id, extra_uid, event)',
) }}

with readings as (
    select
        event_at, user_id, web_server_id, classroom_id, user_type,
        audio_uid as extra_uid, concat(event, '_AUDIO_STATE') as event, audio_lost as reading
    from {{ ref('av_quality_records') }}
    where user_type = 'student' and audio_lost >= 0 and {{ for_run_date('event_date') }}
    union all
    select
        event_at, user_id, web_server_id, classroom_id, user_type,
        video_uid as extra_uid, concat(event, '_VIDEO_STATE') as event, video_fr as reading
    from {{ ref('av_quality_records') }}
    where user_type = 'student' and video_fr >= 0 and {{ for_run_date('event_date') }}
)

select
    toStartOfInterval(toDateTime(event_at), interval 30 second) as start_time,
    start_time + interval 30 second as end_time,
    user_id,
    web_server_id,
    classroom_id,
    user_type,
    coalesce(extra_uid, -1) as extra_uid,
    cast(event as LowCardinality(String)) as event,
    sum(reading) as event_sum,
    event_sum / count() as event_avg,
    count() as event_count
from readings
group by start_time, user_id, web_server_id, classroom_id, user_type, extra_uid, event
