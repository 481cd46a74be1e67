-- Lesson preheat engine: the `dim` database, created idempotently before every run.
-- Outputs are versioned: every row carries the run_id that built it. Readers go through the
-- *_current views, which show each lesson from its latest *published* run (seed: 组织引擎).
-- Source views are parameterized by {lessons:Array(UInt64)} and read the ods snapshots.

create database if not exists dim;

-- One row per preheat run: what it was started for and which lessons it plans to cover.
create table if not exists dim.preheat_runs
(
    run_id UInt64,
    run_kind LowCardinality(String), -- day | lessons | changes | scratch
    run_day Date,
    lesson_ids Array(UInt64),
    note String,
    created_at DateTime64(3, 'UTC') default now64(3)
)
engine = MergeTree
order by run_id;

-- Publishing a run is one insert of one row: readers see all of a run or none of it.
-- Withheld lessons (failed checks) keep showing their previous run.
create table if not exists dim.preheat_publications
(
    run_id UInt64,
    withheld_lessons Array(UInt64),
    published_at DateTime64(3, 'UTC') default now64(3)
)
engine = MergeTree
order by run_id;

-- The run log: one row per (run, lesson) written when the lesson's batch is complete.
create table if not exists dim.preheat_lesson_log
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
engine = MergeTree
order by (run_id, lesson_id);

-- Where each enrolled student sits: tutor, class and org-node chain (root .. leaf).
create table if not exists dim.preheat_placement
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
engine = MergeTree
partition by toYYYYMM(lesson_date)
order by (lesson_id, run_id, student_id);

-- Live rooms: one main room per lesson, plus pre/in/post-class rooms per tutor on camera.
create table if not exists dim.live_room
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
engine = MergeTree
partition by toYYYYMM(lesson_date)
order by (lesson_id, run_id, room_id);

-- Organisation tree nodes: /lesson[/tutor|lpc[/team/group|small_class|wechat_group]].
create table if not exists dim.org_node
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
engine = MergeTree
partition by toYYYYMM(lesson_date)
order by (lesson_id, run_id, node_id);

-- Room membership: which student sits in which room, at which org node (leaf).
create table if not exists dim.room_membership
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
engine = MergeTree
partition by toYYYYMM(lesson_date)
order by (lesson_id, run_id, room_id, student_id);

-- Check findings: one row per (check, lesson, kind).
create table if not exists dim.preheat_findings
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
engine = MergeTree
order by (run_id, lesson_id, check_id, kind);

-- One row per (check, lesson): the lesson was checked, with this many findings.
create table if not exists dim.preheat_check_log
(
    check_id UInt64,
    run_id UInt64,
    lesson_id UInt64,
    errors UInt32,
    warnings UInt32,
    checked_at DateTime64(3, 'UTC')
)
engine = MergeTree
order by (run_id, lesson_id, check_id);

-- Change events already re-preheated: the highest change_id of each processed slice.
create table if not exists dim.preheat_change_cursor
(
    processed_up_to UInt64,
    run_id UInt64,
    events UInt32,
    lessons UInt32,
    processed_at DateTime64(3, 'UTC') default now64(3)
)
engine = MergeTree
order by processed_up_to;

-- Source: each requested lesson's latest schedule version and its bound policy.
create or replace view dim.preheat_source_lessons as
select
    schedule.lesson_id as lesson_id,
    schedule.course_id as course_id,
    schedule.lesson_date as lesson_date,
    schedule.starts_at as starts_at,
    schedule.ends_at as ends_at,
    schedule.lesson_status as lesson_status,
    schedule.policy_id as policy_id,
    concat('lesson:', toString(schedule.lesson_id)) as root_path,
    cityHash64(root_path) as root_node_id,
    (
        policy.policy_id != 0
        and policy.org_policy in (
            'flat', 'tutor_team_group', 'tutor_small_class', 'lpc_wechat_group', 'lpc'
        )
        and policy.room_policy in ('main_only', 'tutor_on_camera')
        and policy.preheat_mode in ('minimal', 'simple', 'full')
    ) as has_policy,
    policy.biz_type as biz_type,
    policy.stream_policy as stream_policy,
    policy.org_policy as org_policy,
    policy.room_policy as room_policy,
    policy.preheat_mode as preheat_mode,
    greatest(policy.group_size, 1) as group_size,
    greatest(policy.team_size, 1) as team_size,
    policy.tutor_capacity as tutor_capacity
from
    (
        select lesson_id, course_id, lesson_date, starts_at, ends_at, lesson_status, policy_id
        from ods.lesson_schedule final
        where lesson_id in {lessons:Array(UInt64)}
    ) as schedule
left join
    (
        select
            policy_id,
            biz_type,
            stream_policy,
            org_policy,
            room_policy,
            preheat_mode,
            group_size,
            team_size,
            tutor_capacity
        from ods.lesson_policy final
    ) as policy
    on policy.policy_id = schedule.policy_id;

-- Source: each requested lesson's enrolled students with their active tutor assignment.
create or replace view dim.preheat_source_students as
select
    enrolled.lesson_id as lesson_id,
    enrolled.student_id as student_id,
    assigned.tutoring_source as tutoring_source,
    assigned.tutor_id as tutor_id,
    assigned.class_id as class_id
from
    (
        select lesson_id, student_id, course_id
        from ods.lesson_enrollment final
        where lesson_id in {lessons:Array(UInt64)} and enrollment_status = 'enrolled'
    ) as enrolled
left join
    (
        select course_id, student_id, tutoring_source, tutor_id, class_id
        from ods.tutor_assignment final
        where
            course_id in (
                select course_id from ods.lesson_schedule
                where lesson_id in {lessons:Array(UInt64)}
            )
            and assignment_status = 'active'
    ) as assigned
    on assigned.course_id = enrolled.course_id and assigned.student_id = enrolled.student_id;

-- What the policy says each student should get: the students the engine must place
-- (scheduled lessons with a usable policy, preheat mode above minimal), with the tutor
-- and class the org policy uses (flat trees have no tutor; only class policies a class).
create or replace view dim.preheat_expected_students as
select
    lesson.lesson_id as lesson_id,
    lesson.lesson_date as lesson_date,
    lesson.root_path as root_path,
    student.student_id as student_id,
    if(lesson.org_policy = 'flat', '', student.tutoring_source) as tutoring_source,
    if(lesson.org_policy = 'flat', 0, student.tutor_id) as tutor_id,
    if(
        lesson.org_policy in ('tutor_small_class', 'lpc_wechat_group') and tutor_id != 0,
        student.class_id,
        0
    ) as class_id,
    lesson.org_policy as org_policy,
    lesson.room_policy as room_policy,
    lesson.preheat_mode as preheat_mode,
    lesson.group_size as group_size,
    lesson.team_size as team_size,
    lesson.tutor_capacity as tutor_capacity
from dim.preheat_source_students(lessons = {lessons:Array(UInt64)}) as student
inner join dim.preheat_source_lessons(lessons = {lessons:Array(UInt64)}) as lesson
    on lesson.lesson_id = student.lesson_id
where
    lesson.lesson_status = 'scheduled'
    and lesson.has_policy
    and lesson.preheat_mode != 'minimal';

-- Per lesson, the run readers see: the latest-built run among published runs, unless the
-- publication withheld the lesson.
create or replace view dim.lesson_current_run as
select
    published.lesson_id as lesson_id,
    argMax(published.run_id, (published.built_at, published.run_id)) as run_id,
    argMax(published.lesson_date, (published.built_at, published.run_id)) as lesson_date,
    argMax(published.build_status, (published.built_at, published.run_id)) as build_status,
    max(published.built_at) as built_at
from
    (
        select lesson_id, run_id, lesson_date, build_status, built_at
        from dim.preheat_lesson_log
        where
            run_id in (select run_id from dim.preheat_publications)
            and (run_id, lesson_id) not in (
                select run_id, arrayJoin(withheld_lessons) from dim.preheat_publications
            )
    ) as published
group by published.lesson_id;

create or replace view dim.live_room_current as
select
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
from dim.live_room
where (lesson_id, run_id) in (select lesson_id, run_id from dim.lesson_current_run);

create or replace view dim.org_node_current as
select
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
from dim.org_node
where (lesson_id, run_id) in (select lesson_id, run_id from dim.lesson_current_run);

-- For marts: one row per (lesson, room, student) with the tutor and group to join on.
create or replace view dim.room_membership_current as
select
    lesson_date,
    lesson_id,
    room_id,
    room_role,
    student_id,
    tutor_id,
    tutor_node_id,
    node_id as group_node_id,
    class_id,
    run_id
from dim.room_membership
where (lesson_id, run_id) in (select lesson_id, run_id from dim.lesson_current_run);

-- For marts: one row per (lesson, student): tutor, group and the group's path.
create or replace view dim.lesson_student_current as
select
    lesson_date,
    lesson_id,
    student_id,
    tutoring_source,
    tutor_id,
    if(tutor_id = 0, toUInt64(0), node_ids[2]) as tutor_node_id,
    node_ids[-1] as group_node_id,
    splitByChar(':', node_names[-1])[1] as group_kind,
    class_id,
    arrayStringConcat(node_names, '/') as group_path,
    run_id
from dim.preheat_placement
where (lesson_id, run_id) in (select lesson_id, run_id from dim.lesson_current_run);

-- Per lesson: the current run's log and its latest check.
create or replace view dim.preheat_lesson_status as
select
    log.lesson_id as lesson_id,
    log.lesson_date as lesson_date,
    log.run_id as run_id,
    log.build_status as build_status,
    log.policy_id as policy_id,
    log.students as students,
    log.tutors as tutors,
    log.rooms as rooms,
    log.nodes as nodes,
    log.members as members,
    log.built_at as built_at,
    checks.errors as errors,
    checks.warnings as warnings,
    checks.checked_at as checked_at
from dim.preheat_lesson_log as log
left join
    (
        select
            run_id,
            lesson_id,
            argMax(errors, check_id) as errors,
            argMax(warnings, check_id) as warnings,
            max(checked_at) as checked_at
        from dim.preheat_check_log
        group by run_id, lesson_id
    ) as checks
    on checks.run_id = log.run_id and checks.lesson_id = log.lesson_id
where (log.lesson_id, log.run_id) in (select lesson_id, run_id from dim.lesson_current_run)
