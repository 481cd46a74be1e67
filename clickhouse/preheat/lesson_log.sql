-- Step 5 of a batch: the run log, one row per (run, lesson) of the batch, written last:
-- its presence marks the lesson's outputs of this run as complete. Counts are read back
-- from the outputs; batch_seconds is the batch's build time so far (set by the caller).
INSERT INTO dim.preheat_lesson_log
(
    run_id, lesson_id, lesson_date, course_id, batch_no, build_status, policy_id, biz_type,
    stream_policy, org_policy, room_policy, preheat_mode, students, tutors, rooms, nodes,
    members, batch_lessons, batch_students, batch_seconds, built_at
)
WITH
    placed AS (
        SELECT lesson_id, count() AS students, uniqExactIf(tutor_id, tutor_id != 0) AS tutors
        FROM dim.preheat_placement
        WHERE lesson_id IN {lessons:Array(UInt64)} AND run_id = {run_id:UInt64}
        GROUP BY lesson_id
    ),
    rooms AS (
        SELECT lesson_id, count() AS rooms
        FROM dim.live_room
        WHERE lesson_id IN {lessons:Array(UInt64)} AND run_id = {run_id:UInt64}
        GROUP BY lesson_id
    ),
    nodes AS (
        SELECT lesson_id, count() AS nodes
        FROM dim.org_node
        WHERE lesson_id IN {lessons:Array(UInt64)} AND run_id = {run_id:UInt64}
        GROUP BY lesson_id
    ),
    members AS (
        SELECT lesson_id, count() AS members
        FROM dim.room_membership
        WHERE lesson_id IN {lessons:Array(UInt64)} AND run_id = {run_id:UInt64}
        GROUP BY lesson_id
    )
SELECT
    {run_id:UInt64},
    requested.lesson_id,
    if(found.lesson_id = 0, {day:Date}, found.lesson_date),
    found.course_id,
    {batch_no:UInt32},
    multiIf(
        found.lesson_id = 0, 'not_found',
        NOT found.has_policy, 'no_policy',
        found.lesson_status = 'cancelled', 'cancelled',
        'built'
    ),
    found.policy_id,
    found.biz_type,
    found.stream_policy,
    found.org_policy,
    found.room_policy,
    found.preheat_mode,
    toUInt32(placed.students),
    toUInt32(placed.tutors),
    toUInt32(rooms.rooms),
    toUInt32(nodes.nodes),
    members.members,
    length({lessons:Array(UInt64)}),
    (SELECT sum(students) FROM placed),
    {batch_seconds:Float64},
    now64(3)
FROM (SELECT arrayJoin({lessons:Array(UInt64)}) AS lesson_id) AS requested
LEFT JOIN dim.preheat_source_lessons(lessons = {lessons:Array(UInt64)}) AS found
    ON found.lesson_id = requested.lesson_id
-- placed is read by the scalar subquery above too, another scope (not a duplicate alias)
LEFT JOIN placed ON placed.lesson_id = requested.lesson_id  -- noqa: AL04
LEFT JOIN rooms ON rooms.lesson_id = requested.lesson_id
LEFT JOIN nodes ON nodes.lesson_id = requested.lesson_id
LEFT JOIN members ON members.lesson_id = requested.lesson_id
