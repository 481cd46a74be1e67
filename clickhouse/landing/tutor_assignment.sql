-- topic: tutor_assignment
-- grain: one row per (course, student) version from a tutoring source; latest update_time wins
-- Sources (seed): head_teacher and early_childhood give a tutor and maybe a small class,
-- supervision gives an LPC and a WeChat group, zero_conversion an LPC only.
create table if not exists ods.tutor_assignment
(
    course_id UInt64,
    student_id UInt64,
    tutoring_source LowCardinality(String), -- head_teacher | early_childhood | supervision | zero_conversion
    tutor_id UInt64,
    class_id UInt64,                        -- small class or WeChat group; 0 = none
    assignment_status LowCardinality(String), -- active | ended
    update_time DateTime64(3, 'UTC'),
    -- include: kafka_provenance
)
engine = ReplacingMergeTree(update_time)
order BY (course_id, student_id)
-- include: deduplicated_inserts
