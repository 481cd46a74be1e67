-- Courseware interactions per engaged student, per room and day.
{{ metric(
    description='Classified student courseware events divided by the students who produced any',
    owner='teaching-research', grain='day x room', unit='events per student', min=0, max=100000,
) }}

select event_date as metric_date, toString(room_id) as dimension, student_events / engaged_students as value
from {{ ref('room_daily') }}
where engaged_students > 0
