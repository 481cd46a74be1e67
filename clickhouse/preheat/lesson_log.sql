-- Step 5 of a batch: the run log, one row per (run, lesson) of the batch, written last:
-- its presence marks the lesson's outputs of this run as complete. Counts are read back
-- from the outputs; batch_seconds is the batch's build time so far (set by the caller).
insert into dim.preheat_lesson_log
(
    run_id, lesson_id, lesson_date, course_id, batch_no, build_status, policy_id, biz_type,
    stream_policy, org_policy, room_policy, preheat_mode, students, tutors, rooms, nodes,
    members, batch_lessons, batch_students, batch_seconds, built_at
)
with
placed as (
    select lesson_id, count() as students, uniqExactIf(tutor_id, tutor_id != 0) as tutors
    from dim.preheat_placement
    where lesson_id in {lessons:Array(UInt64)} and run_id = {run_id:UInt64}
    group by lesson_id
),

-- the batch's rooms, org nodes and room memberships of this run, counted per lesson
outputs as (
    select lesson_id, 'room' as output from dim.live_room
    where lesson_id in {lessons:Array(UInt64)} and run_id = {run_id:UInt64}
    union all
    select lesson_id, 'node' from dim.org_node
    where lesson_id in {lessons:Array(UInt64)} and run_id = {run_id:UInt64}
    union all
    select lesson_id, 'member' from dim.room_membership
    where lesson_id in {lessons:Array(UInt64)} and run_id = {run_id:UInt64}
),

built as (
    select
        lesson_id,
        countIf(output = 'room') as rooms,
        countIf(output = 'node') as nodes,
        countIf(output = 'member') as members
    from outputs
    group by lesson_id
)

select
    {run_id:UInt64},
    requested.lesson_id,
    if(found.lesson_id = 0, {day:Date}, found.lesson_date),
    found.course_id,
    {batch_no:UInt32},
    multiIf(
        found.lesson_id = 0, 'not_found',
        not found.has_policy, 'no_policy',
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
    toUInt32(built.rooms),
    toUInt32(built.nodes),
    built.members,
    length({lessons:Array(UInt64)}),
    (select sum(students) from placed),
    {batch_seconds:Float64},
    now64(3)
from (select arrayJoin({lessons:Array(UInt64)}) as lesson_id) as requested
left join dim.preheat_source_lessons(lessons = {lessons:Array(UInt64)}) as found
    on found.lesson_id = requested.lesson_id
left join placed on placed.lesson_id = requested.lesson_id  -- noqa: AL04
left join built on built.lesson_id = requested.lesson_id
