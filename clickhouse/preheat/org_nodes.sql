-- Step 3 of a batch: organisation tree nodes (one row per run, lesson, node) with parent,
-- root, depth and path. The root exists for every scheduled lesson with a usable policy;
-- deeper nodes are the distinct prefixes of the students' node chains from step 1.
insert into dim.org_node
(
    run_id, lesson_id, lesson_date, node_id, parent_node_id, root_node_id, node_kind, depth,
    source_id, path, student_count
)
with
lessons as (
    select lesson_id, lesson_date, root_node_id, root_path
    from dim.preheat_source_lessons(lessons = {lessons:Array(UInt64)})
    where lesson_status = 'scheduled' and has_policy
),

chains as (
    select lesson_id, lesson_date, node_ids, node_names
    from dim.preheat_placement
    where lesson_id in {lessons:Array(UInt64)} and run_id = {run_id:UInt64}
)

select
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
from lessons as lesson
left join (select lesson_id, count() as students from chains group by lesson_id) as totals
    on totals.lesson_id = lesson.lesson_id
union all
select
    {run_id:UInt64},
    lesson_id,
    any(lesson_date),
    node_ids[position] as node_id,
    any(node_ids[position - 1]),
    any(node_ids[1]),
    any(splitByChar(':', node_names[position])[1]),
    toUInt8(position - 1) as depth,
    any(toUInt64OrZero(splitByChar(':', node_names[position])[2])),
    any(arrayStringConcat(arraySlice(node_names, 1, position), '/')),
    toUInt32(count())
from chains
array join arrayEnumerate(node_ids) as position
where position > 1
group by lesson_id, node_id, depth
