-- Check a run's lessons against the source (seed: 预热数据检查). One row per (check,
-- lesson, kind) in dim.preheat_findings, then one row per checked lesson in
-- dim.preheat_check_log. The expected side is recomputed from the ods snapshots now, so a
-- source change after the build shows up as a finding. Errors withhold a lesson on publish.
-- Layout rules off in this file: sqlfluff's reading of format( as the FORMAT clause (below)
-- leaves it a wrong picture of the statements' structure, and its fixes cannot be applied.
-- noqa: disable=LT02,LT08

-- Students: missing or extra against the source, assignment drift, a member in two groups,
-- rooms not matching the built policy, members pointing at rooms or nodes that do not exist.
INSERT INTO dim.preheat_findings
(check_id, run_id, lesson_id, kind, severity, detail, count, checked_at)
WITH
    expected AS (
        SELECT lesson_id, student_id, tutor_id, class_id, 1 AS present
        FROM dim.preheat_expected_students(lessons = {lessons:Array(UInt64)})
    ),
    built AS (
        SELECT lesson_id, room_policy, preheat_mode
        FROM dim.preheat_lesson_log
        WHERE run_id = {run_id:UInt64} AND lesson_id IN {lessons:Array(UInt64)}
    ),
    rooms AS (
        SELECT room_id, tutor_id
        FROM dim.live_room
        WHERE lesson_id IN {lessons:Array(UInt64)} AND run_id = {run_id:UInt64}
    ),
    nodes AS (
        SELECT node_id
        FROM dim.org_node
        WHERE lesson_id IN {lessons:Array(UInt64)} AND run_id = {run_id:UInt64}
    ),
    -- Room and node ids hash the lesson in, so set lookups need no lesson key; roles are
    -- bits (main 1, pre 2, in 4, post 8) so a duplicated role shows as rows > bits set.
    actual AS (
        SELECT
            lesson_id,
            student_id,
            groupUniqArray(tutor_id) AS tutors,
            groupUniqArray(class_id) AS classes,
            uniqExact(node_id) AS node_count,
            groupBitOr(
                multiIf(
                    room_role = 'main', 1,
                    room_role = 'pre_class', 2,
                    room_role = 'in_class', 4,
                    room_role = 'post_class', 8,
                    16
                )
            ) AS role_bits,
            count() AS seats,
            countIf(
                room_id NOT IN (SELECT room_id FROM rooms)
                OR node_id NOT IN (SELECT node_id FROM nodes)
            ) AS dangling,
            countIf(
                room_role != 'main'
                AND room_id IN (SELECT room_id FROM rooms)
                AND (room_id, tutor_id) NOT IN (SELECT room_id, tutor_id FROM rooms)
            ) AS foreign,
            1 AS present
        FROM dim.room_membership
        WHERE lesson_id IN {lessons:Array(UInt64)} AND run_id = {run_id:UInt64}
        GROUP BY lesson_id, student_id
    ),
    paired AS (
        SELECT
            if(expected.present = 1, expected.lesson_id, actual.lesson_id) AS lesson_id,
            if(expected.present = 1, expected.student_id, actual.student_id) AS student_id,
            expected.present AS is_expected,
            expected.tutor_id AS expected_tutor_id,
            expected.class_id AS expected_class_id,
            actual.present AS is_built,
            actual.tutors AS tutors,
            actual.classes AS classes,
            actual.node_count AS node_count,
            actual.role_bits AS role_bits,
            actual.seats AS seats,
            actual.dangling AS dangling,
            actual.foreign AS foreign
        FROM expected
        FULL OUTER JOIN actual
            ON actual.lesson_id = expected.lesson_id AND actual.student_id = expected.student_id
    ),
    compared AS (
        SELECT
            paired.lesson_id AS lesson_id,
            paired.student_id AS student_id,
            arrayFilter(
                kind -> kind != '',
                [
                    if(paired.is_built = 0, 'missing_student', ''),
                    if(paired.is_expected = 0, 'extra_student', ''),
                    if(
                        paired.is_expected = 1
                        AND paired.is_built = 1
                        AND (
                            paired.tutors != [paired.expected_tutor_id]
                            OR paired.classes != [paired.expected_class_id]
                        ),
                        'stale_assignment',
                        ''
                    ),
                    if(paired.node_count > 1, 'member_in_two_groups', ''),
                    if(
                        paired.is_built = 1
                        AND (
                            paired.foreign > 0
                            OR paired.seats != bitCount(paired.role_bits)
                            OR paired.role_bits != if(
                                built.preheat_mode = 'full'
                                AND built.room_policy = 'tutor_on_camera'
                                AND length(paired.tutors) = 1
                                AND paired.tutors[1] != 0,
                                15,
                                1
                            )
                        ),
                        'student_rooms_mismatch',
                        ''
                    ),
                    if(paired.dangling > 0, 'dangling_member', '')
                ]
            ) AS kinds
        FROM paired
        LEFT JOIN built ON built.lesson_id = paired.lesson_id
    )
SELECT
    {check_id:UInt64},
    {run_id:UInt64},
    lesson_id,
    kind,
    'error',
    concat('students ', arrayStringConcat(arrayMap(x -> toString(x), groupArray(5)(student_id)), ', ')),
    count(),
    now64(3)
FROM compared
ARRAY JOIN kinds AS kind
GROUP BY lesson_id, kind;

-- The ClickHouse grammar of sqlfluff reads format( as the FORMAT clause, which ends the select
-- list early (then: trailing comma, unused CTE, unknown table). The engine parses it.
-- noqa: disable=CV03,ST03,RF01
-- Rooms per policy: the (role, tutor) pairs the policy and the source's tutors call for,
-- against the rooms built (a duplicated room counts as extra).
INSERT INTO dim.preheat_findings
(check_id, run_id, lesson_id, kind, severity, detail, count, checked_at)
WITH
    lessons AS (
        SELECT lesson_id
        FROM dim.preheat_source_lessons(lessons = {lessons:Array(UInt64)})
        WHERE lesson_status = 'scheduled' AND has_policy
    ),
    wanted AS (
        SELECT lesson_id, 'main' AS room_role, toUInt64(0) AS tutor_id FROM lessons
        UNION ALL
        SELECT lesson_id, role AS room_role, tutor_id
        FROM
            (
                SELECT DISTINCT lesson_id, tutor_id
                FROM dim.preheat_expected_students(lessons = {lessons:Array(UInt64)})
                WHERE tutor_id != 0 AND room_policy = 'tutor_on_camera'
            )
        ARRAY JOIN ['pre_class', 'in_class', 'post_class'] AS role
    ),
    made AS (
        SELECT lesson_id, toString(room_role) AS room_role, tutor_id, count() AS copies
        FROM dim.live_room
        WHERE lesson_id IN {lessons:Array(UInt64)} AND run_id = {run_id:UInt64}
        GROUP BY lesson_id, room_role, tutor_id
    ),
    compared AS (
        SELECT
            if(wanted.lesson_id != 0, wanted.lesson_id, made.lesson_id) AS lesson_id,
            wanted.lesson_id != 0 AS is_wanted,
            made.copies AS copies
        FROM wanted
        FULL OUTER JOIN made
            ON
                made.lesson_id = wanted.lesson_id
                AND made.room_role = wanted.room_role
                AND made.tutor_id = wanted.tutor_id
    )
SELECT
    {check_id:UInt64},
    {run_id:UInt64},
    lesson_id,
    'rooms_per_policy',
    'error',
    format(
        'expected {} rooms, built {} (missing {}, extra {})',
        toString(countIf(is_wanted)),
        toString(sum(copies)),
        toString(countIf(is_wanted AND copies = 0)),
        toString(sumIf(copies, NOT is_wanted) + sumIf(copies - 1, is_wanted AND copies > 1))
    ),
    countIf(is_wanted AND copies = 0)
    + sumIf(copies, NOT is_wanted)
    + sumIf(copies - 1, is_wanted AND copies > 1),
    now64(3)
FROM compared
GROUP BY lesson_id
HAVING countIf(is_wanted AND copies = 0) + sumIf(copies, NOT is_wanted) > 0
    OR sumIf(copies - 1, is_wanted AND copies > 1) > 0;

-- Org tree: nodes whose parent is not in the lesson's tree or whose root is not the
-- lesson's root (orphans), and lessons without exactly one root when they should have one.
INSERT INTO dim.preheat_findings
(check_id, run_id, lesson_id, kind, severity, detail, count, checked_at)
WITH
    lessons AS (
        SELECT lesson_id, root_node_id, lesson_status = 'scheduled' AND has_policy AS has_tree
        FROM dim.preheat_source_lessons(lessons = {lessons:Array(UInt64)})
    ),
    nodes AS (
        SELECT lesson_id, node_id, parent_node_id, root_node_id, depth, path
        FROM dim.org_node
        WHERE lesson_id IN {lessons:Array(UInt64)} AND run_id = {run_id:UInt64}
    )
SELECT
    {check_id:UInt64},
    {run_id:UInt64},
    node.lesson_id,
    'orphan_node',
    'error',
    concat('nodes ', arrayStringConcat(groupArray(5)(node.path), ', ')),
    count(),
    now64(3)
FROM nodes AS node
LEFT JOIN (SELECT lesson_id, node_id, 1 AS present FROM nodes) AS parent
    ON parent.lesson_id = node.lesson_id AND parent.node_id = node.parent_node_id
LEFT JOIN lessons AS lesson ON lesson.lesson_id = node.lesson_id
WHERE (node.depth > 0 AND parent.present = 0) OR node.root_node_id != lesson.root_node_id
GROUP BY node.lesson_id
UNION ALL
SELECT
    {check_id:UInt64},
    {run_id:UInt64},
    lesson.lesson_id,
    'tree_root',
    'error',
    format('{} roots, expected {}', toString(roots.roots), if(lesson.has_tree, '1', '0')),
    1,
    now64(3)
FROM lessons AS lesson
LEFT JOIN
    (SELECT lesson_id, countIf(depth = 0) AS roots FROM nodes GROUP BY lesson_id) AS roots
    ON roots.lesson_id = lesson.lesson_id
WHERE roots.roots != if(lesson.has_tree, 1, 0);

-- Lessons: the built policy or schedule no longer matches the source (re-preheat needed).
INSERT INTO dim.preheat_findings
(check_id, run_id, lesson_id, kind, severity, detail, count, checked_at)
WITH
    built AS (
        SELECT *
        FROM dim.preheat_lesson_log
        WHERE run_id = {run_id:UInt64} AND lesson_id IN {lessons:Array(UInt64)}
    ),
    main_rooms AS (
        SELECT lesson_id, starts_at, ends_at
        FROM dim.live_room
        WHERE
            lesson_id IN {lessons:Array(UInt64)}
            AND run_id = {run_id:UInt64}
            AND room_role = 'main'
    ),
    source AS (SELECT * FROM dim.preheat_source_lessons(lessons = {lessons:Array(UInt64)}))
SELECT
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
FROM built
INNER JOIN source ON source.lesson_id = built.lesson_id
WHERE
    built.build_status = 'built'
    AND (
        built.policy_id != source.policy_id
        OR built.biz_type != source.biz_type
        OR built.stream_policy != source.stream_policy
        OR built.org_policy != source.org_policy
        OR built.room_policy != source.room_policy
        OR built.preheat_mode != source.preheat_mode
    )
UNION ALL
SELECT
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
FROM built
INNER JOIN source ON source.lesson_id = built.lesson_id
LEFT JOIN main_rooms ON main_rooms.lesson_id = built.lesson_id
WHERE
    (built.build_status = 'cancelled') != (source.lesson_status = 'cancelled')
    OR built.lesson_date != source.lesson_date
    OR (
        built.build_status = 'built'
        AND (main_rooms.starts_at != source.starts_at OR main_rooms.ends_at != source.ends_at)
    );

-- noqa: enable=CV03,ST03,RF01
-- Warnings about the source itself: enrolled students without a tutor in a tutor-based
-- tree (they sit at the root), and tutors over their capacity (seed: at most 500).
INSERT INTO dim.preheat_findings
(check_id, run_id, lesson_id, kind, severity, detail, count, checked_at)
WITH
    per_tutor AS (
        SELECT
            lesson_id,
            tutor_id,
            count() AS students,
            any(tutor_capacity) AS capacity,
            any(org_policy) AS org_policy,
            groupArray(5)(student_id) AS sample
        FROM dim.preheat_expected_students(lessons = {lessons:Array(UInt64)})
        GROUP BY lesson_id, tutor_id
    ),
    per_lesson AS (
        SELECT
            lesson_id,
            sumIf(students, tutor_id = 0 AND org_policy != 'flat') AS unassigned,
            arrayFlatten(groupArrayIf(sample, tutor_id = 0 AND org_policy != 'flat'))
                AS unassigned_sample,
            countIf(tutor_id != 0 AND capacity > 0 AND students > capacity) AS over,
            groupArrayIf(5)(tutor_id, tutor_id != 0 AND capacity > 0 AND students > capacity)
                AS over_sample
        FROM per_tutor
        GROUP BY lesson_id
    )
SELECT
    {check_id:UInt64},
    {run_id:UInt64},
    lesson_id,
    finding.1,
    'warning',
    finding.3,
    finding.2,
    now64(3)
FROM per_lesson
ARRAY JOIN
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
    ] AS finding
WHERE finding.2 > 0;

-- The check log: every lesson checked, with its error and warning findings.
INSERT INTO dim.preheat_check_log (check_id, run_id, lesson_id, errors, warnings, checked_at)
SELECT
    {check_id:UInt64},
    {run_id:UInt64},
    requested.lesson_id,
    toUInt32(found.errors),
    toUInt32(found.warnings),
    now64(3)
FROM (SELECT arrayJoin({lessons:Array(UInt64)}) AS lesson_id) AS requested
LEFT JOIN
    (
        SELECT
            lesson_id,
            countIf(severity = 'error') AS errors,
            countIf(severity = 'warning') AS warnings
        FROM dim.preheat_findings
        WHERE run_id = {run_id:UInt64} AND check_id = {check_id:UInt64}
        GROUP BY lesson_id
    ) AS found
    ON found.lesson_id = requested.lesson_id
