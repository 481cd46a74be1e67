-- topic: lesson_change
-- grain: one row per intra-day change notification (append-only, change_id increasing)
-- The new state itself arrives on the snapshot topics; an event only names what it touches:
-- student_moved (course, student), tutor_changed (course, old tutor),
-- lesson_rescheduled and lesson_reopened (lesson).
create table if not exists ods.lesson_change
(
    change_id UInt64,
    change_kind LowCardinality(String),
    lesson_id UInt64,
    course_id UInt64,
    student_id UInt64,
    tutor_id UInt64,
    occurred_at DateTime64(3, 'UTC'),
    -- include: kafka_provenance
)
engine = MergeTree
order by change_id
-- include: deduplicated_inserts
