-- topic: lesson_enrollment
-- grain: one row per (lesson, student) version; the latest update_time wins
-- A withdrawal is a newer version with enrollment_status = 'withdrawn'.
create table if not exists ods.lesson_enrollment
(
    lesson_id UInt64,
    student_id UInt64,
    course_id UInt64,
    enrollment_status LowCardinality(String), -- enrolled | withdrawn
    update_time DateTime64(3, 'UTC'),
    -- include: kafka_provenance
)
engine = ReplacingMergeTree(update_time)
order BY (lesson_id, student_id)
-- include: deduplicated_inserts
