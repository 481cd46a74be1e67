-- Daily summary per live room: its teacher, active students, engagement and AV quality.
-- Grain: event_date x room_id. Rooms are the courseware roomId = agora channel id.
{{ daily_incremental_config('(event_date, room_id)') }}

with engagement as (
    select event_date, room_id, uniqExact(user_id) as engaged_students, count() as student_events
    from {{ ref('student_action_events') }}
    where {{ for_run_date('event_date') }}
    group by event_date, room_id
),

av as (
    select
        event_date,
        web_server_id as room_id,
        -- the teacher seen on the room's channel
        anyIf(user_id, user_type = 'teacher') as teacher_id,
        uniqExactIf(user_id, user_type = 'student') as av_students,
        countIf(user_type = 'student' and audio_lost >= 0) as audio_readings,
        avgIf(audio_lost, user_type = 'student' and audio_lost >= 0) as audio_lost_avg,
        countIf(user_type = 'student' and video_fr >= 0) as video_readings,
        avgIf(video_fr, user_type = 'student' and video_fr >= 0) as video_fr_avg,
        countIf(user_type = 'student' and audio_lost >= {{ var('bad_audio_lost') }}) as bad_audio_readings,
        countIf(user_type = 'student' and video_fr >= 0 and video_fr < {{ var('bad_video_fr') }}) as bad_video_readings
    from {{ ref('av_quality_records') }}
    where web_server_id != -1 and {{ for_run_date('event_date') }}
    group by event_date, room_id
)

select
    if(engagement.event_date = toDate(0), av.event_date, engagement.event_date) as event_date,
    if(engagement.room_id = 0, av.room_id, engagement.room_id) as room_id,
    av.teacher_id as teacher_id,
    engagement.engaged_students as engaged_students,
    engagement.student_events as student_events,
    av.av_students as av_students,
    av.audio_readings as audio_readings,
    av.audio_lost_avg as audio_lost_avg,
    av.video_readings as video_readings,
    av.video_fr_avg as video_fr_avg,
    av.bad_audio_readings as bad_audio_readings,
    av.bad_video_readings as bad_video_readings
from engagement
full outer join av on av.event_date = engagement.event_date and av.room_id = engagement.room_id
