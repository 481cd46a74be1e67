-- Lesson preheat engine: the `dim` database, created idempotently before every run.
-- Outputs are versioned: every row carries the run_id that built it. Readers go through the
-- *_current views, which show each lesson from its latest *published* run (seed: 组织引擎).
-- Source views are parameterized by {lessons:Array(UInt64)} and read the ods snapshots.

CREATE DATABASE IF NOT EXISTS dim;

-- One row per preheat run: what it was started for and which lessons it plans to cover.
CREATE TABLE IF NOT EXISTS dim.preheat_runs
(
    run_id UInt64,
    run_kind LowCardinality(String), -- day | lessons | changes | scratch
    run_day Date,
    lesson_ids Array(UInt64),
    note String,
    created_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY run_id;

-- Publishing a run is one insert of one row: readers see all of a run or none of it.
-- Withheld lessons (failed checks) keep showing their previous run.
CREATE TABLE IF NOT EXISTS dim.preheat_publications
(
    run_id UInt64,
    withheld_lessons Array(UInt64),
    published_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY run_id;

-- The run log: one row per (run, lesson) written when the lesson's batch is complete.
CREATE TABLE IF NOT EXISTS dim.preheat_lesson_log
(
    run_id UInt64,
    lesson_id UInt64,
    lesson_date Date,
    course_id UInt64,
    batch_no UInt32,
    build_status LowCardinality(String), -- built | cancelled | no_policy | not_found
    policy_id UInt32,
    biz_type LowCardinality(String),
    stream_policy LowCardinality(String),
    org_policy LowCardinality(String),
    room_policy LowCardinality(String),
    preheat_mode LowCardinality(String),
    students UInt32,
    tutors UInt32,
    rooms UInt32,
    nodes UInt32,
    members UInt64,
    batch_lessons UInt32,
    batch_students UInt64,
    batch_seconds Float64,
    built_at DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (run_id, lesson_id);

-- Where each enrolled student sits: tutor, class and org-node chain (root .. leaf).
CREATE TABLE IF NOT EXISTS dim.preheat_placement
(
    run_id UInt64,
    lesson_id UInt64,
    lesson_date Date,
    student_id UInt64,
    tutoring_source LowCardinality(String),
    tutor_id UInt64,
    class_id UInt64,
    org_policy LowCardinality(String),
    room_policy LowCardinality(String),
    preheat_mode LowCardinality(String),
    node_ids Array(UInt64),
    node_names Array(String)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(lesson_date)
ORDER BY (lesson_id, run_id, student_id);

-- Live rooms: one main room per lesson, plus pre/in/post-class rooms per tutor on camera.
CREATE TABLE IF NOT EXISTS dim.live_room
(
    run_id UInt64,
    lesson_id UInt64,
    lesson_date Date,
    room_id UInt64,
    room_role LowCardinality(String), -- main | pre_class | in_class | post_class
    tutor_id UInt64,                  -- 0 for the main room
    scope_node_id UInt64,             -- the org node the room serves: root or the tutor's node
    root_node_id UInt64,
    biz_type LowCardinality(String),
    stream_policy LowCardinality(String),
    starts_at DateTime64(3, 'UTC'),
    ends_at DateTime64(3, 'UTC'),
    expected_members UInt32
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(lesson_date)
ORDER BY (lesson_id, run_id, room_id);

-- Organisation tree nodes: /lesson[/tutor|lpc[/team/group|small_class|wechat_group]].
CREATE TABLE IF NOT EXISTS dim.org_node
(
    run_id UInt64,
    lesson_id UInt64,
    lesson_date Date,
    node_id UInt64,        -- cityHash64(path): stable across runs
    parent_node_id UInt64, -- 0 for the root
    root_node_id UInt64,
    node_kind LowCardinality(String), -- lesson | tutor | lpc | team | group | small_class | wechat_group
    depth UInt8,
    source_id UInt64,      -- lesson, tutor, class id; team or group number within the tutor
    path String,
    student_count UInt32   -- students placed at or below the node
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(lesson_date)
ORDER BY (lesson_id, run_id, node_id);

-- Room membership: which student sits in which room, at which org node (leaf).
CREATE TABLE IF NOT EXISTS dim.room_membership
(
    run_id UInt64,
    lesson_id UInt64,
    lesson_date Date,
    room_id UInt64,
    room_role LowCardinality(String),
    student_id UInt64,
    tutor_id UInt64,
    class_id UInt64,
    node_id UInt64,       -- the student's leaf node (group, small class, WeChat group, ...)
    tutor_node_id UInt64  -- 0 when the student has no tutor
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(lesson_date)
ORDER BY (lesson_id, run_id, room_id, student_id);

-- Check findings: one row per (check, lesson, kind).
CREATE TABLE IF NOT EXISTS dim.preheat_findings
(
    check_id UInt64,
    run_id UInt64,
    lesson_id UInt64,
    kind LowCardinality(String),
    severity LowCardinality(String), -- error | warning
    detail String,
    count UInt64,
    checked_at DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (run_id, lesson_id, check_id, kind);

-- One row per (check, lesson): the lesson was checked, with this many findings.
CREATE TABLE IF NOT EXISTS dim.preheat_check_log
(
    check_id UInt64,
    run_id UInt64,
    lesson_id UInt64,
    errors UInt32,
    warnings UInt32,
    checked_at DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (run_id, lesson_id, check_id);

-- Change events already re-preheated: the highest change_id of each processed slice.
CREATE TABLE IF NOT EXISTS dim.preheat_change_cursor
(
    processed_up_to UInt64,
    run_id UInt64,
    events UInt32,
    lessons UInt32,
    processed_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY processed_up_to;

-- Source: each requested lesson's latest schedule version and its bound policy.
CREATE OR REPLACE VIEW dim.preheat_source_lessons AS
SELECT
    schedule.lesson_id AS lesson_id,
    schedule.course_id AS course_id,
    schedule.lesson_date AS lesson_date,
    schedule.starts_at AS starts_at,
    schedule.ends_at AS ends_at,
    schedule.lesson_status AS lesson_status,
    schedule.policy_id AS policy_id,
    concat('lesson:', toString(schedule.lesson_id)) AS root_path,
    cityHash64(root_path) AS root_node_id,
    (
        policy.policy_id != 0
        AND policy.org_policy IN (
            'flat', 'tutor_team_group', 'tutor_small_class', 'lpc_wechat_group', 'lpc'
        )
        AND policy.room_policy IN ('main_only', 'tutor_on_camera')
        AND policy.preheat_mode IN ('minimal', 'simple', 'full')
    ) AS has_policy,
    policy.biz_type AS biz_type,
    policy.stream_policy AS stream_policy,
    policy.org_policy AS org_policy,
    policy.room_policy AS room_policy,
    policy.preheat_mode AS preheat_mode,
    greatest(policy.group_size, 1) AS group_size,
    greatest(policy.team_size, 1) AS team_size,
    policy.tutor_capacity AS tutor_capacity
FROM
    (
        SELECT lesson_id, course_id, lesson_date, starts_at, ends_at, lesson_status, policy_id
        FROM ods.lesson_schedule FINAL
        WHERE lesson_id IN {lessons:Array(UInt64)}
    ) AS schedule
LEFT JOIN
    (
        SELECT
            policy_id,
            biz_type,
            stream_policy,
            org_policy,
            room_policy,
            preheat_mode,
            group_size,
            team_size,
            tutor_capacity
        FROM ods.lesson_policy FINAL
    ) AS policy
    ON policy.policy_id = schedule.policy_id;

-- Source: each requested lesson's enrolled students with their active tutor assignment.
CREATE OR REPLACE VIEW dim.preheat_source_students AS
SELECT
    enrolled.lesson_id AS lesson_id,
    enrolled.student_id AS student_id,
    assigned.tutoring_source AS tutoring_source,
    assigned.tutor_id AS tutor_id,
    assigned.class_id AS class_id
FROM
    (
        SELECT lesson_id, student_id, course_id
        FROM ods.lesson_enrollment FINAL
        WHERE lesson_id IN {lessons:Array(UInt64)} AND enrollment_status = 'enrolled'
    ) AS enrolled
LEFT JOIN
    (
        SELECT course_id, student_id, tutoring_source, tutor_id, class_id
        FROM ods.tutor_assignment FINAL
        WHERE
            course_id IN (
                SELECT course_id FROM ods.lesson_schedule
                WHERE lesson_id IN {lessons:Array(UInt64)}
            )
            AND assignment_status = 'active'
    ) AS assigned
    ON assigned.course_id = enrolled.course_id AND assigned.student_id = enrolled.student_id;

-- What the policy says each student should get: the students the engine must place
-- (scheduled lessons with a usable policy, preheat mode above minimal), with the tutor
-- and class the org policy uses (flat trees have no tutor; only class policies a class).
CREATE OR REPLACE VIEW dim.preheat_expected_students AS
SELECT
    lesson.lesson_id AS lesson_id,
    lesson.lesson_date AS lesson_date,
    lesson.root_path AS root_path,
    student.student_id AS student_id,
    if(lesson.org_policy = 'flat', '', student.tutoring_source) AS tutoring_source,
    if(lesson.org_policy = 'flat', 0, student.tutor_id) AS tutor_id,
    if(
        lesson.org_policy IN ('tutor_small_class', 'lpc_wechat_group') AND tutor_id != 0,
        student.class_id,
        0
    ) AS class_id,
    lesson.org_policy AS org_policy,
    lesson.room_policy AS room_policy,
    lesson.preheat_mode AS preheat_mode,
    lesson.group_size AS group_size,
    lesson.team_size AS team_size,
    lesson.tutor_capacity AS tutor_capacity
FROM dim.preheat_source_students(lessons = {lessons:Array(UInt64)}) AS student
INNER JOIN dim.preheat_source_lessons(lessons = {lessons:Array(UInt64)}) AS lesson
    ON lesson.lesson_id = student.lesson_id
WHERE
    lesson.lesson_status = 'scheduled'
    AND lesson.has_policy
    AND lesson.preheat_mode != 'minimal';

-- Per lesson, the run readers see: the latest-built run among published runs, unless the
-- publication withheld the lesson.
CREATE OR REPLACE VIEW dim.lesson_current_run AS
SELECT
    published.lesson_id AS lesson_id,
    argMax(published.run_id, (published.built_at, published.run_id)) AS run_id,
    argMax(published.lesson_date, (published.built_at, published.run_id)) AS lesson_date,
    argMax(published.build_status, (published.built_at, published.run_id)) AS build_status,
    max(published.built_at) AS built_at
FROM
    (
        SELECT lesson_id, run_id, lesson_date, build_status, built_at
        FROM dim.preheat_lesson_log
        WHERE
            run_id IN (SELECT run_id FROM dim.preheat_publications)
            AND (run_id, lesson_id) NOT IN (
                SELECT run_id, arrayJoin(withheld_lessons) FROM dim.preheat_publications
            )
    ) AS published
GROUP BY published.lesson_id;

CREATE OR REPLACE VIEW dim.live_room_current AS
SELECT
    lesson_date,
    lesson_id,
    room_id,
    room_role,
    tutor_id,
    scope_node_id,
    root_node_id,
    biz_type,
    stream_policy,
    starts_at,
    ends_at,
    expected_members,
    run_id
FROM dim.live_room
WHERE (lesson_id, run_id) IN (SELECT lesson_id, run_id FROM dim.lesson_current_run);

CREATE OR REPLACE VIEW dim.org_node_current AS
SELECT
    lesson_date,
    lesson_id,
    node_id,
    parent_node_id,
    root_node_id,
    node_kind,
    depth,
    source_id,
    path,
    student_count,
    run_id
FROM dim.org_node
WHERE (lesson_id, run_id) IN (SELECT lesson_id, run_id FROM dim.lesson_current_run);

-- For marts: one row per (lesson, room, student) with the tutor and group to join on.
CREATE OR REPLACE VIEW dim.room_membership_current AS
SELECT
    lesson_date,
    lesson_id,
    room_id,
    room_role,
    student_id,
    tutor_id,
    tutor_node_id,
    node_id AS group_node_id,
    class_id,
    run_id
FROM dim.room_membership
WHERE (lesson_id, run_id) IN (SELECT lesson_id, run_id FROM dim.lesson_current_run);

-- For marts: one row per (lesson, student): tutor, group and the group's path.
CREATE OR REPLACE VIEW dim.lesson_student_current AS
SELECT
    lesson_date,
    lesson_id,
    student_id,
    tutoring_source,
    tutor_id,
    if(tutor_id = 0, toUInt64(0), node_ids[2]) AS tutor_node_id,
    node_ids[-1] AS group_node_id,
    splitByChar(':', node_names[-1])[1] AS group_kind,
    class_id,
    arrayStringConcat(node_names, '/') AS group_path,
    run_id
FROM dim.preheat_placement
WHERE (lesson_id, run_id) IN (SELECT lesson_id, run_id FROM dim.lesson_current_run);

-- Per lesson: the current run's log and its latest check.
CREATE OR REPLACE VIEW dim.preheat_lesson_status AS
SELECT
    log.lesson_id AS lesson_id,
    log.lesson_date AS lesson_date,
    log.run_id AS run_id,
    log.build_status AS build_status,
    log.policy_id AS policy_id,
    log.students AS students,
    log.tutors AS tutors,
    log.rooms AS rooms,
    log.nodes AS nodes,
    log.members AS members,
    log.built_at AS built_at,
    checks.errors AS errors,
    checks.warnings AS warnings,
    checks.checked_at AS checked_at
FROM dim.preheat_lesson_log AS log
LEFT JOIN
    (
        SELECT
            run_id,
            lesson_id,
            argMax(errors, check_id) AS errors,
            argMax(warnings, check_id) AS warnings,
            max(checked_at) AS checked_at
        FROM dim.preheat_check_log
        GROUP BY run_id, lesson_id
    ) AS checks
    ON checks.run_id = log.run_id AND checks.lesson_id = log.lesson_id
WHERE (log.lesson_id, log.run_id) IN (SELECT lesson_id, run_id FROM dim.lesson_current_run)
