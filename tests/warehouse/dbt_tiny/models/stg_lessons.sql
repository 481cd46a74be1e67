-- Lessons as they arrive, typed and renamed; one row per lesson version.
select
    lesson_id,
    classroom_id,
    toUInt32(attendee_count) as attendee_count,
    updated_at
from {{ source('raw', 'lessons') }}
