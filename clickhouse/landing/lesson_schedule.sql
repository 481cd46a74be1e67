-- topic: lesson_schedule
-- grain: one row per lesson (course chapter) version; the latest update_time per lesson wins
-- A lesson moved to another time or day, cancelled or reopened arrives as a newer version.
create table if not exists ods.lesson_schedule
(
    lesson_id UInt64,
    course_id UInt64,
    chapter_no UInt16,
    course_type LowCardinality(String), -- special | class | short_training | literacy | programming
    lesson_date Date,                   -- business-calendar day the lesson is taught on
    starts_at DateTime64(3, 'UTC'),
    ends_at DateTime64(3, 'UTC'),
    policy_id UInt32,
    lesson_status LowCardinality(String), -- scheduled | cancelled
    update_time DateTime64(3, 'UTC'),
    -- include: kafka_provenance
)
engine = ReplacingMergeTree(update_time)
order by lesson_id
-- include: deduplicated_inserts
