-- Step 3 of a batch: organisation tree nodes (one row per run, lesson, node) with parent,
-- root, depth and path. The root exists for every scheduled lesson with a usable policy;
-- deeper nodes are the distinct prefixes of the students' node chains from step 1.
INSERT INTO dim.org_node
(
    run_id, lesson_id, lesson_date, node_id, parent_node_id, root_node_id, node_kind, depth,
    source_id, path, student_count
)
WITH
    lessons AS (
        SELECT lesson_id, lesson_date, root_node_id, root_path
        FROM dim.preheat_source_lessons(lessons = {lessons:Array(UInt64)})
        WHERE lesson_status = 'scheduled' AND has_policy
    ),
    chains AS (
        SELECT lesson_id, lesson_date, node_ids, node_names
        FROM dim.preheat_placement
        WHERE lesson_id IN {lessons:Array(UInt64)} AND run_id = {run_id:UInt64}
    )
SELECT
    {run_id:UInt64},
    lesson.lesson_id,
    lesson.lesson_date,
    lesson.root_node_id,
    toUInt64(0),
    lesson.root_node_id,
    'lesson',
    toUInt8(0),
    lesson.lesson_id,
    lesson.root_path,
    toUInt32(ifNull(totals.students, 0))
FROM lessons AS lesson
LEFT JOIN (SELECT lesson_id, count() AS students FROM chains GROUP BY lesson_id) AS totals
    ON totals.lesson_id = lesson.lesson_id
UNION ALL
SELECT
    {run_id:UInt64},
    lesson_id,
    any(lesson_date),
    node_ids[position] AS node_id,
    any(node_ids[position - 1]),
    any(node_ids[1]),
    any(splitByChar(':', node_names[position])[1]),
    toUInt8(position - 1) AS depth,
    any(toUInt64OrZero(splitByChar(':', node_names[position])[2])),
    any(arrayStringConcat(arraySlice(node_names, 1, position), '/')),
    toUInt32(count())
FROM chains
ARRAY JOIN arrayEnumerate(node_ids) AS position
WHERE position > 1
GROUP BY lesson_id, node_id, depth
