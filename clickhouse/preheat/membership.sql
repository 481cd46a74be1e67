-- Step 4 of a batch: room membership (one row per run, lesson, room, student). Every
-- placed student sits in the main room; in full preheat mode a tutor_on_camera lesson also
-- seats the student in the tutor's pre-, in- and post-class rooms. Room ids come from
-- step 2's rooms, so a student whose room is missing is left out and the check says so.
insert into dim.room_membership
(
    run_id, lesson_id, lesson_date, room_id, room_role, student_id, tutor_id, class_id,
    node_id, tutor_node_id
)
select
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
from
    (
        select
            run_id,
            lesson_id,
            lesson_date,
            student_id,
            tutor_id,
            class_id,
            node_ids[-1] as node_id,
            if(tutor_id = 0, toUInt64(0), node_ids[2]) as tutor_node_id,
            arrayJoin(
                if(
                    preheat_mode = 'full' and room_policy = 'tutor_on_camera' and tutor_id != 0,
                    ['main', 'pre_class', 'in_class', 'post_class'],
                    ['main']
                )
            ) as room_role,
            if(room_role = 'main', toUInt64(0), tutor_id) as room_tutor_id
        from dim.preheat_placement
        where lesson_id in {lessons:Array(UInt64)} and run_id = {run_id:UInt64}
    ) as placed
inner join
    (
        select lesson_id, room_id, room_role, tutor_id
        from dim.live_room
        where lesson_id in {lessons:Array(UInt64)} and run_id = {run_id:UInt64}
    ) as room
    on
        room.lesson_id = placed.lesson_id
        and room.room_role = placed.room_role
        and room.tutor_id = placed.room_tutor_id
