-- Step 2 of a batch: live rooms per lesson by policy (one row per run, lesson, room).
-- Every scheduled lesson with a usable policy gets its main room; tutor_on_camera policies
-- add pre-, in- and post-class rooms per tutor placed in step 1: 3n+1 rooms (seed).
-- Tutor rooms open 30 minutes before the lesson and close 30 minutes after it.
INSERT INTO dim.live_room
(
    run_id, lesson_id, lesson_date, room_id, room_role, tutor_id, scope_node_id, root_node_id,
    biz_type, stream_policy, starts_at, ends_at, expected_members
)
WITH
    lessons AS (
        SELECT *
        FROM dim.preheat_source_lessons(lessons = {lessons:Array(UInt64)})
        WHERE lesson_status = 'scheduled' AND has_policy
    ),
    placed AS (
        SELECT lesson_id, tutor_id, node_ids[2] AS tutor_node_id, preheat_mode, count() AS students
        FROM dim.preheat_placement
        WHERE lesson_id IN {lessons:Array(UInt64)} AND run_id = {run_id:UInt64}
        GROUP BY lesson_id, tutor_id, tutor_node_id, preheat_mode
    )
SELECT
    {run_id:UInt64},
    lesson.lesson_id,
    lesson.lesson_date,
    cityHash64('room', lesson.lesson_id, 'main', toUInt64(0)),
    'main',
    toUInt64(0),
    lesson.root_node_id,
    lesson.root_node_id,
    lesson.biz_type,
    lesson.stream_policy,
    lesson.starts_at,
    lesson.ends_at,
    toUInt32(ifNull(totals.students, 0))
FROM lessons AS lesson
LEFT JOIN
    (SELECT lesson_id, sum(students) AS students FROM placed GROUP BY lesson_id) AS totals
    ON totals.lesson_id = lesson.lesson_id
UNION ALL
SELECT
    {run_id:UInt64},
    lesson.lesson_id,
    lesson.lesson_date,
    cityHash64('room', lesson.lesson_id, role, tutor.tutor_id),
    role,
    tutor.tutor_id,
    tutor.tutor_node_id,
    lesson.root_node_id,
    lesson.biz_type,
    lesson.stream_policy,
    if(role = 'pre_class', lesson.starts_at - INTERVAL 30 MINUTE, if(role = 'in_class', lesson.starts_at, lesson.ends_at)),
    if(role = 'pre_class', lesson.starts_at, if(role = 'in_class', lesson.ends_at, lesson.ends_at + INTERVAL 30 MINUTE)),
    toUInt32(if(tutor.preheat_mode = 'full', tutor.students, 0))
FROM placed AS tutor
INNER JOIN lessons AS lesson ON lesson.lesson_id = tutor.lesson_id
ARRAY JOIN ['pre_class', 'in_class', 'post_class'] AS role
WHERE tutor.tutor_id != 0 AND lesson.room_policy = 'tutor_on_camera'
