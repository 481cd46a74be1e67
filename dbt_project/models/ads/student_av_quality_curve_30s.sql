-- Students' audio/video quality across the day, all rooms together: per 30-second window, mean
-- packets lost per audio reading, mean video frame rate and the students reporting.
-- Grain: start_time (windows with at least one student reading). Source: ads.av_quality_30s.
{{ daily_incremental_config('(event_date, start_time)') }}

select
    toDate(start_time) as event_date,
    start_time,
    toUInt32(dateDiff('second', toStartOfDay(start_time), start_time)) as second_of_day,
    toUInt64(sumIf(event_count, endsWith(event, '_AUDIO_STATE'))) as audio_readings,
    toUInt64(sumIf(event_count, endsWith(event, '_VIDEO_STATE'))) as video_readings,
    sumIf(event_sum, endsWith(event, '_AUDIO_STATE')) / nullIf(audio_readings, 0) as audio_lost_avg,
    sumIf(event_sum, endsWith(event, '_VIDEO_STATE')) / nullIf(video_readings, 0) as video_fr_avg,
    toUInt64(uniqExact(user_id)) as students
from {{ ref('av_quality_30s') }}
where {{ for_run_date('toDate(start_time)') }}
group by start_time
