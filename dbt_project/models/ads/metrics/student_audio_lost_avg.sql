-- Average audio packets lost per student reading, per room and day.
{{ metric(
    description='Mean agora audioState.lost over student readings in the room that day',
    owner='classroom-quality', grain='day x room', unit='packets per reading', min=0, max=1000,
) }}

select event_date as metric_date, toString(room_id) as dimension, audio_lost_avg as value
from {{ ref('room_daily') }}
where audio_readings > 0
