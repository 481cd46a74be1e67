-- topic: lesson_change
-- grain: one row per intra-day change notification (append-only, change_id increasing)
-- The new state itself arrives on the snapshot topics; an event only names what it touches:
-- student_moved (course, student), tutor_changed (course, old tutor),
-- lesson_rescheduled and lesson_reopened (lesson).
CREATE TABLE IF NOT EXISTS ods.lesson_change
(
    change_id UInt64,
    change_kind LowCardinality(String),
    lesson_id UInt64,
    course_id UInt64,
    student_id UInt64,
    tutor_id UInt64,
    occurred_at DateTime64(3, 'UTC'),
    kafka_topic LowCardinality(String) DEFAULT '' COMMENT 'provenance: the Kafka topic landed from (empty for files)',
    kafka_partition Int32 DEFAULT -1 COMMENT 'provenance: its partition (-1 for files)',
    kafka_offset Int64 DEFAULT -1 COMMENT 'provenance: its offset (-1 for files); landing dedups by the three'
)
ENGINE = MergeTree
ORDER BY change_id
SETTINGS non_replicated_deduplication_window = 10000
