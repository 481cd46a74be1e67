-- The dimension columns of a live room's rows (LIVE_CLASSROOM_CONTRACT.md C): the room looked up
-- in dim_live_room, a student's membership in dim_room_membership, through the caches at
-- lookup_time. dim_status says what was found; a known room gives its columns, a member its tutor,
-- class and group; otherwise zeros and the business date of the row's time.
-- Arguments: view, the view to create (the rows with dim_status and the dim_ columns); rows, the
-- rows (room_id, `role`, member_key: a student's user_id, lookup_time: PROCTIME()); time_ms, the
-- row's time (epoch ms).
create temporary view {view}_lookups as
-- the lookups' input hashed by their keys (FLIP-204), should the input's layout ever differ
select
    /*+ LOOKUP('table'='d', 'shuffle'='true'), LOOKUP('table'='m', 'shuffle'='true') */
    r.*,
    case
        when d.lookup_status <> 'ok' or m.lookup_status <> 'ok' then 'lookup_timeout'
        when d.lookup_status is null then 'room_unknown'
        -- a member of the room's lesson (the membership lookup returns the student's greatest one)
        when r.`role` = 'student' and (m.lookup_status is null or m.lesson_id <> d.lesson_id)
            then 'member_unknown'
        else 'ok'
    end as dim_status,
    d.lesson_id as room_lesson_id, d.lesson_date as room_lesson_date, d.room_role as room_role_found,
    d.expected_members as room_expected_members, d.tutor_id as room_tutor_id,
    d.scope_node_id as room_scope_node_id, d.run_id as room_run_id,
    m.tutor_id as member_tutor_id, m.class_id as member_class_id,
    m.group_node_id as member_group_node_id
from {rows} as r
left join dim_live_room for system_time as of r.lookup_time as d
    on d.room_id = r.room_id
left join dim_room_membership for system_time as of r.lookup_time as m
    on m.room_id = r.room_id and m.student_id = r.member_key;

create temporary view {view} as
select
    *,
    if(dim_status in ('ok', 'member_unknown'), room_lesson_id, 0) as dim_lesson_id,
    if(dim_status in ('ok', 'member_unknown'), room_lesson_date,
        cast(to_timestamp_ltz({time_ms}, 3) as date)) as dim_lesson_date,
    if(dim_status in ('ok', 'member_unknown'), room_role_found, '') as dim_room_role,
    if(dim_status in ('ok', 'member_unknown'), room_expected_members, 0) as dim_expected_members,
    case
        when dim_status = 'ok' and `role` = 'student' then member_tutor_id
        when dim_status in ('ok', 'member_unknown') then room_tutor_id
        else 0
    end as dim_tutor_id,
    if(dim_status = 'ok' and `role` = 'student', member_class_id, 0) as dim_class_id,
    case
        when dim_status = 'ok' and `role` = 'student' then member_group_node_id
        when dim_status in ('ok', 'member_unknown') then room_scope_node_id
        else 0
    end as dim_org_node_id,
    if(dim_status in ('ok', 'member_unknown'), room_run_id, 0) as dim_run_id
from {view}_lookups;
