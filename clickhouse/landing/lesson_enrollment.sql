-- topic: lesson_enrollment
-- grain: one row per (lesson, student) version; the latest update_time wins
-- A withdrawal is a newer version with enrollment_status = 'withdrawn'.
CREATE TABLE IF NOT EXISTS ods.lesson_enrollment
(
    lesson_id UInt64,
    student_id UInt64,
    course_id UInt64,
    enrollment_status LowCardinality(String), -- enrolled | withdrawn
    update_time DateTime64(3, 'UTC'),
    kafka_topic LowCardinality(String) DEFAULT '' COMMENT 'provenance: the Kafka topic landed from (empty for files)',
    kafka_partition Int32 DEFAULT -1 COMMENT 'provenance: its partition (-1 for files)',
    kafka_offset Int64 DEFAULT -1 COMMENT 'provenance: its offset (-1 for files); landing dedups by the three'
)
ENGINE = ReplacingMergeTree(update_time)
ORDER BY (lesson_id, student_id)
SETTINGS non_replicated_deduplication_window = 10000
