-- Step 4 of a batch: room membership (one row per run, lesson, room, student). Every
-- placed student sits in the main room; in full preheat mode a tutor_on_camera lesson also
-- seats the student in the tutor's pre-, in- and post-class rooms. Room ids come from
-- step 2's rooms, so a student whose room is missing is left out and the check says so.
INSERT INTO dim.room_membership
(
    run_id, lesson_id, lesson_date, room_id, room_role, student_id, tutor_id, class_id,
    node_id, tutor_node_id
)
SELECT
    placed.run_id,
    placed.lesson_id,
    placed.lesson_date,
    room.room_id,
    placed.room_role,
    placed.student_id,
    placed.tutor_id,
    placed.class_id,
    placed.node_id,
    placed.tutor_node_id
FROM
    (
        SELECT
            run_id,
            lesson_id,
            lesson_date,
            student_id,
            tutor_id,
            class_id,
            node_ids[-1] AS node_id,
            if(tutor_id = 0, toUInt64(0), node_ids[2]) AS tutor_node_id,
            arrayJoin(
                if(
                    preheat_mode = 'full' AND room_policy = 'tutor_on_camera' AND tutor_id != 0,
                    ['main', 'pre_class', 'in_class', 'post_class'],
                    ['main']
                )
            ) AS room_role,
            if(room_role = 'main', toUInt64(0), tutor_id) AS room_tutor_id
        FROM dim.preheat_placement
        WHERE lesson_id IN {lessons:Array(UInt64)} AND run_id = {run_id:UInt64}
    ) AS placed
INNER JOIN
    (
        SELECT lesson_id, room_id, room_role, tutor_id
        FROM dim.live_room
        WHERE lesson_id IN {lessons:Array(UInt64)} AND run_id = {run_id:UInt64}
    ) AS room
    ON
        room.lesson_id = placed.lesson_id
        AND room.room_role = placed.room_role
        AND room.tutor_id = placed.room_tutor_id
