-- Daily classroom quality overview per room and teacher: engagement and audio/video quality.
-- Grain: event_date x room_id (one teacher per room). The mart an operator opens first.
{{ daily_incremental_config('(event_date, room_id)') }}

select
    event_date,
    room_id,
    teacher_id,
    greatest(engaged_students, av_students) as students,
    student_events,
    if(engaged_students > 0, student_events / engaged_students, 0) as events_per_student,
    audio_lost_avg,
    video_fr_avg,
    if(audio_readings > 0, bad_audio_readings / audio_readings, 0) as bad_audio_share,
    if(video_readings > 0, bad_video_readings / video_readings, 0) as bad_video_share,
    cast(multiIf(
        audio_readings + video_readings = 0, 'no_av_data',
        bad_audio_share > 0.2 or bad_video_share > 0.2, 'poor',
        bad_audio_share > 0.05 or bad_video_share > 0.05, 'fair',
        'good'
    ) as LowCardinality(String)) as quality_band
from {{ ref('room_daily') }}
where {{ for_run_date('event_date') }}
