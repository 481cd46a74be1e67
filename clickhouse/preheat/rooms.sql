-- Step 2 of a batch: live rooms per lesson by policy (one row per run, lesson, room).
-- Every scheduled lesson with a usable policy gets its main room; tutor_on_camera policies
-- add pre-, in- and post-class rooms per tutor placed in step 1: 3n+1 rooms (seed).
-- Tutor rooms open 30 minutes before the lesson and close 30 minutes after it.
insert into dim.live_room
(
    run_id, lesson_id, lesson_date, room_id, room_role, tutor_id, scope_node_id, root_node_id,
    biz_type, stream_policy, starts_at, ends_at, expected_members
)
with
lessons as (
    select *
    from dim.preheat_source_lessons(lessons = {lessons:Array(UInt64)})
    where lesson_status = 'scheduled' and has_policy
),

placed as (
    select lesson_id, tutor_id, node_ids[2] as tutor_node_id, preheat_mode, count() as students
    from dim.preheat_placement
    where lesson_id in {lessons:Array(UInt64)} and run_id = {run_id:UInt64}
    group by lesson_id, tutor_id, tutor_node_id, preheat_mode
)

select
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
from lessons as lesson
left join
    (select lesson_id, sum(students) as students from placed group by lesson_id) as totals
    on totals.lesson_id = lesson.lesson_id
union all
select
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
    if(role = 'pre_class', lesson.starts_at - interval 30 minute, if(role = 'in_class', lesson.starts_at, lesson.ends_at)),
    if(role = 'pre_class', lesson.starts_at, if(role = 'in_class', lesson.ends_at, lesson.ends_at + interval 30 minute)),
    toUInt32(if(tutor.preheat_mode = 'full', tutor.students, 0))
from placed as tutor
inner join lessons as lesson on lesson.lesson_id = tutor.lesson_id
array join ['pre_class', 'in_class', 'post_class'] as role
where tutor.tutor_id != 0 and lesson.room_policy = 'tutor_on_camera'
