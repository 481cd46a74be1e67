-- Check a run's lessons against the source (seed: 预热数据检查). One row per (check,
-- lesson, kind) in dim.preheat_findings, then one row per checked lesson in
-- dim.preheat_check_log. The expected side is recomputed from the ods snapshots now, so a
-- source change after the build shows up as a finding. Errors withhold a lesson on publish.
-- Layout rules off in this file: sqlfluff's reading of format( as the FORMAT clause (below)
-- leaves it a wrong picture of the statements' structure, and its fixes cannot be applied.
-- noqa: disable=LT02,LT08

-- Students: missing or extra against the source, assignment drift, a member in two groups,
-- rooms not matching the built policy, members pointing at rooms or nodes that do not exist.
insert into dim.preheat_findings
(check_id, run_id, lesson_id, kind, severity, detail, count, checked_at)
with
    expected as (
        select lesson_id, student_id, tutor_id, class_id, 1 as present
        from dim.preheat_expected_students(lessons = {lessons:Array(UInt64)})
    ),
    built as (
        select lesson_id, room_policy, preheat_mode
        from dim.preheat_lesson_log
        where run_id = {run_id:UInt64} and lesson_id in {lessons:Array(UInt64)}
    ),
    rooms as (
        select room_id, tutor_id
        from dim.live_room
        where lesson_id in {lessons:Array(UInt64)} and run_id = {run_id:UInt64}
    ),
    nodes as (
        select node_id
        from dim.org_node
        where lesson_id in {lessons:Array(UInt64)} and run_id = {run_id:UInt64}
    ),
    -- Room and node ids hash the lesson in, so set lookups need no lesson key; roles are
    -- bits (main 1, pre 2, in 4, post 8) so a duplicated role shows as rows > bits set.
    actual as (
        select
            lesson_id,
            student_id,
            groupUniqArray(tutor_id) as tutors,
            groupUniqArray(class_id) as classes,
            uniqExact(node_id) as node_count,
            groupBitOr(
                multiIf(
                    room_role = 'main', 1,
                    room_role = 'pre_class', 2,
                    room_role = 'in_class', 4,
                    room_role = 'post_class', 8,
                    16
                )
            ) as role_bits,
            count() as seats,
            countIf(
                room_id not in (select room_id from rooms)
                or node_id not in (select node_id from nodes)
            ) as dangling,
            countIf(
                room_role != 'main'
                and room_id in (select room_id from rooms)
                and (room_id, tutor_id) not in (select room_id, tutor_id from rooms)
            ) as foreign,
            1 as present
        from dim.room_membership
        where lesson_id in {lessons:Array(UInt64)} and run_id = {run_id:UInt64}
        group by lesson_id, student_id
    ),
    paired as (
        select
            if(expected.present = 1, expected.lesson_id, actual.lesson_id) as lesson_id,
            if(expected.present = 1, expected.student_id, actual.student_id) as student_id,
            expected.present as is_expected,
            expected.tutor_id as expected_tutor_id,
            expected.class_id as expected_class_id,
            actual.present as is_built,
            actual.tutors as tutors,
            actual.classes as classes,
            actual.node_count as node_count,
            actual.role_bits as role_bits,
            actual.seats as seats,
            actual.dangling as dangling,
            actual.foreign as foreign
        from expected
        full outer join actual
            on actual.lesson_id = expected.lesson_id and actual.student_id = expected.student_id
    ),
    compared as (
        select
            paired.lesson_id as lesson_id,
            paired.student_id as student_id,
            arrayFilter(
                kind -> kind != '',
                [
                    if(paired.is_built = 0, 'missing_student', ''),
                    if(paired.is_expected = 0, 'extra_student', ''),
                    if(
                        paired.is_expected = 1
                        and paired.is_built = 1
                        and (
                            paired.tutors != [paired.expected_tutor_id]
                            or paired.classes != [paired.expected_class_id]
                        ),
                        'stale_assignment',
                        ''
                    ),
                    if(paired.node_count > 1, 'member_in_two_groups', ''),
                    if(
                        paired.is_built = 1
                        and (
                            paired.foreign > 0
                            or paired.seats != bitCount(paired.role_bits)
                            or paired.role_bits != if(
                                built.preheat_mode = 'full'
                                and built.room_policy = 'tutor_on_camera'
                                and length(paired.tutors) = 1
                                and paired.tutors[1] != 0,
                                15,
                                1
                            )
                        ),
                        'student_rooms_mismatch',
                        ''
                    ),
                    if(paired.dangling > 0, 'dangling_member', '')
                ]
            ) as kinds
        from paired
        left join built on built.lesson_id = paired.lesson_id
    )
select
    {check_id:UInt64},
    {run_id:UInt64},
    lesson_id,
    kind,
    'error',
    concat('students ', arrayStringConcat(arrayMap(x -> toString(x), groupArray(5) (student_id)), ', ')),
    count(),
    now64(3)
from compared
array join kinds as kind
group by lesson_id, kind;

-- The ClickHouse grammar of sqlfluff reads format( as the FORMAT clause, which ends the select
-- list early (then: trailing comma, unused CTE, unknown table). The engine parses it.
-- noqa: disable=CV03,ST03,RF01
-- Rooms per policy: the (role, tutor) pairs the policy and the source's tutors call for,
-- against the rooms built (a duplicated room counts as extra).
insert into dim.preheat_findings
(check_id, run_id, lesson_id, kind, severity, detail, count, checked_at)
with
    lessons as (
        select lesson_id
        from dim.preheat_source_lessons(lessons = {lessons:Array(UInt64)})
        where lesson_status = 'scheduled' and has_policy
    ),
    wanted as (
        select lesson_id, 'main' as room_role, toUInt64(0) as tutor_id from lessons
        union all
        select lesson_id, role as room_role, tutor_id
        from
            (
                select distinct lesson_id, tutor_id
                from dim.preheat_expected_students(lessons = {lessons:Array(UInt64)})
                where tutor_id != 0 and room_policy = 'tutor_on_camera'
            )
        array join ['pre_class', 'in_class', 'post_class'] as role
    ),
    made as (
        select lesson_id, toString(room_role) as room_role, tutor_id, count() as copies
        from dim.live_room
        where lesson_id in {lessons:Array(UInt64)} and run_id = {run_id:UInt64}
        group by lesson_id, room_role, tutor_id
    ),
    compared as (
        select
            if(wanted.lesson_id != 0, wanted.lesson_id, made.lesson_id) as lesson_id,
            wanted.lesson_id != 0 as is_wanted,
            made.copies as copies
        from wanted
        full outer join made
            on
                made.lesson_id = wanted.lesson_id
                and made.room_role = wanted.room_role
                and made.tutor_id = wanted.tutor_id
    )
select
    {check_id:UInt64},
    {run_id:UInt64},
    lesson_id,
    'rooms_per_policy',
    'error',
    format(
        'expected {} rooms, built {} (missing {}, extra {})',
        toString(countIf(is_wanted)),
        toString(sum(copies)),
        toString(countIf(is_wanted and copies = 0)),
        toString(sumIf(copies, not is_wanted) + sumIf(copies - 1, is_wanted and copies > 1))
    ),
    countIf(is_wanted and copies = 0)
    + sumIf(copies, not is_wanted)
    + sumIf(copies - 1, is_wanted and copies > 1),
    now64(3)
from compared
group by lesson_id
having countIf(is_wanted and copies = 0) + sumIf(copies, not is_wanted) > 0
    or sumIf(copies - 1, is_wanted and copies > 1) > 0;

-- Org tree: nodes whose parent is not in the lesson's tree or whose root is not the
-- lesson's root (orphans), and lessons without exactly one root when they should have one.
insert into dim.preheat_findings
(check_id, run_id, lesson_id, kind, severity, detail, count, checked_at)
with
    lessons as (
        select lesson_id, root_node_id, lesson_status = 'scheduled' and has_policy as has_tree
        from dim.preheat_source_lessons(lessons = {lessons:Array(UInt64)})
    ),
    nodes as (
        select lesson_id, node_id, parent_node_id, root_node_id, depth, path
        from dim.org_node
        where lesson_id in {lessons:Array(UInt64)} and run_id = {run_id:UInt64}
    )
select
    {check_id:UInt64},
    {run_id:UInt64},
    node.lesson_id,
    'orphan_node',
    'error',
    concat('nodes ', arrayStringConcat(groupArray(5) (node.path), ', ')),
    count(),
    now64(3)
from nodes as node
left join (select lesson_id, node_id, 1 as present from nodes) as parent
    on parent.lesson_id = node.lesson_id and parent.node_id = node.parent_node_id
left join lessons as lesson on lesson.lesson_id = node.lesson_id
where (node.depth > 0 and parent.present = 0) or node.root_node_id != lesson.root_node_id
group by node.lesson_id
union all
select
    {check_id:UInt64},
    {run_id:UInt64},
    lesson.lesson_id,
    'tree_root',
    'error',
    format('{} roots, expected {}', toString(roots.roots), if(lesson.has_tree, '1', '0')),
    1,
    now64(3)
from lessons as lesson
left join
    (select lesson_id, countIf(depth = 0) as roots from nodes group by lesson_id) as roots
    on roots.lesson_id = lesson.lesson_id
where roots.roots != if(lesson.has_tree, 1, 0);

-- Lessons: the built policy or schedule no longer matches the source (re-preheat needed).
insert into dim.preheat_findings
(check_id, run_id, lesson_id, kind, severity, detail, count, checked_at)
with
    built as (
        select *
        from dim.preheat_lesson_log
        where run_id = {run_id:UInt64} and lesson_id in {lessons:Array(UInt64)}
    ),
    main_rooms as (
        select lesson_id, starts_at, ends_at
        from dim.live_room
        where
            lesson_id in {lessons:Array(UInt64)}
            and run_id = {run_id:UInt64}
            and room_role = 'main'
    ),
    source as (select * from dim.preheat_source_lessons(lessons = {lessons:Array(UInt64)}))
select
    {check_id:UInt64},
    {run_id:UInt64},
    built.lesson_id,
    'policy_changed',
    'error',
    format(
        'built policy {} ({}/{}/{}/{}), source policy {} ({}/{}/{}/{})',
        toString(built.policy_id), built.biz_type, built.org_policy, built.room_policy,
        built.preheat_mode, toString(source.policy_id), source.biz_type, source.org_policy,
        source.room_policy, source.preheat_mode
    ),
    1,
    now64(3)
from built
inner join source on source.lesson_id = built.lesson_id
where
    built.build_status = 'built'
    AND (
        built.policy_id != source.policy_id
        or built.biz_type != source.biz_type
        or built.stream_policy != source.stream_policy
        or built.org_policy != source.org_policy
        or built.room_policy != source.room_policy
        or built.preheat_mode != source.preheat_mode
    )
union all
select
    {check_id:UInt64},
    {run_id:UInt64},
    built.lesson_id,
    'schedule_changed',
    'error',
    format(
        'built {} {} {}, source {} {} {}',
        built.build_status, toString(built.lesson_date), toString(main_rooms.starts_at),
        source.lesson_status, toString(source.lesson_date), toString(source.starts_at)
    ),
    1,
    now64(3)
from built
inner join source on source.lesson_id = built.lesson_id
left join main_rooms on main_rooms.lesson_id = built.lesson_id
WHERE
    (built.build_status = 'cancelled') != (source.lesson_status = 'cancelled')
    or built.lesson_date != source.lesson_date
    OR (
        built.build_status = 'built'
        AND (main_rooms.starts_at != source.starts_at or main_rooms.ends_at != source.ends_at)
    );

-- noqa: enable=CV03,ST03,RF01
-- Warnings about the source itself: enrolled students without a tutor in a tutor-based
-- tree (they sit at the root), and tutors over their capacity (seed: at most 500).
insert into dim.preheat_findings
(check_id, run_id, lesson_id, kind, severity, detail, count, checked_at)
with
    per_tutor as (
        select
            lesson_id,
            tutor_id,
            count() as students,
            any(tutor_capacity) as capacity,
            any(org_policy) as org_policy,
            groupArray(5) (student_id) as sample
        from dim.preheat_expected_students(lessons = {lessons:Array(UInt64)})
        group by lesson_id, tutor_id
    ),
    per_lesson as (
        select
            lesson_id,
            sumIf(students, tutor_id = 0 and org_policy != 'flat') as unassigned,
            arrayFlatten(groupArrayIf(sample, tutor_id = 0 and org_policy != 'flat'))
                as unassigned_sample,
            countIf(tutor_id != 0 and capacity > 0 and students > capacity) as over,
            groupArrayIf(5) (tutor_id, tutor_id != 0 and capacity > 0 and students > capacity)
                as over_sample
        from per_tutor
        group by lesson_id
    )
select
    {check_id:UInt64},
    {run_id:UInt64},
    lesson_id,
    finding.1,
    'warning',
    finding.3,
    finding.2,
    now64(3)
from per_lesson
array join
    [
        (
            'unassigned_student',
            unassigned,
            concat('students ', arrayStringConcat(arrayMap(x -> toString(x), unassigned_sample), ', '))
        ),
        (
            'tutor_over_capacity',
            toUInt64(over),
            concat('tutors ', arrayStringConcat(arrayMap(x -> toString(x), over_sample), ', '))
        )
    ] as finding
where finding.2 > 0;

-- The check log: every lesson checked, with its error and warning findings.
insert into dim.preheat_check_log (check_id, run_id, lesson_id, errors, warnings, checked_at)
select
    {check_id:UInt64},
    {run_id:UInt64},
    requested.lesson_id,
    toUInt32(found.errors),
    toUInt32(found.warnings),
    now64(3)
from (select arrayJoin({lessons:Array(UInt64)}) as lesson_id) as requested
left join
    (
        select
            lesson_id,
            countIf(severity = 'error') as errors,
            countIf(severity = 'warning') as warnings
        from dim.preheat_findings
        where run_id = {run_id:UInt64} and check_id = {check_id:UInt64}
        group by lesson_id
    ) as found
    on found.lesson_id = requested.lesson_id
