-- Diff two preheats per lesson (seed: 预热回归diff检查工具): rooms, org nodes and memberships
-- added, removed or changed from side A to side B, plus the lesson's own build (status and
-- policy). Side A is run run_a or, when run_a = 0, what readers currently see; side B is
-- run run_b. Items are matched by their stable ids (room, node, room+student); an item
-- present on both sides whose attributes differ counts as changed. No lessons = all.
-- The ClickHouse grammar of sqlfluff reads format( as the FORMAT clause, which ends the select
-- list early (then: trailing comma, unused CTE, unknown table) and gives it a wrong picture of
-- the layout, whose fixes it cannot apply. The engine parses it.
-- noqa: disable=CV03,ST03,RF01,LT02,LT08
with
    side_a as (
        select lesson_id, run_id from dim.lesson_current_run where {run_a:UInt64} = 0
        union all
        select lesson_id, run_id from dim.preheat_lesson_log
        where {run_a:UInt64} != 0 and run_id = {run_a:UInt64}
    ),
    scope as (
        select lesson_id from dim.preheat_lesson_log
        where
            run_id = {run_b:UInt64}
            and (empty({lessons:Array(UInt64)}) or has({lessons:Array(UInt64)}, lesson_id))
        union distinct
        select lesson_id from dim.preheat_lesson_log
        where
            {run_a:UInt64} != 0
            and run_id = {run_a:UInt64}
            and (empty({lessons:Array(UInt64)}) or has({lessons:Array(UInt64)}, lesson_id))
    ),
    -- the (lesson, run) pairs of each side: 1 = A, 2 = B (a pair may be on both)
    sides as (
        select lesson_id, run_id, 1 as side from side_a
        where lesson_id in (select lesson_id from scope)
        union all
        select lesson_id, {run_b:UInt64}, 2 from scope
    ),
    pairs as (select distinct lesson_id, run_id from sides),
    -- every item of either side once per side it is on: its id and a hash of its attributes
    items as (
        select lesson_id, 'lesson' as entity, lesson_id as item, side,
            cityHash64(build_status, policy_id, biz_type, stream_policy, org_policy, room_policy, preheat_mode) as attributes,
            format('{} policy {} {}/{}/{}/{}', toString(build_status), toString(policy_id),
                biz_type, org_policy, room_policy, preheat_mode) as description
        from dim.preheat_lesson_log inner join sides using (lesson_id, run_id)
        WHERE (lesson_id, run_id) in pairs
        union all
        select lesson_id, 'room', room_id, side,
            cityHash64(room_role, tutor_id, scope_node_id, biz_type, stream_policy, starts_at, ends_at), ''
        from dim.live_room inner join sides using (lesson_id, run_id)
        where (lesson_id, run_id) in pairs
        union all
        select lesson_id, 'node', node_id, side,
            cityHash64(parent_node_id, root_node_id, node_kind, depth, source_id, path, student_count), ''
        from dim.org_node inner join sides using (lesson_id, run_id)
        where (lesson_id, run_id) in pairs
        union all
        select lesson_id, 'member', cityHash64(room_id, student_id), side,
            cityHash64(node_id, tutor_id, class_id, room_role), ''
        from dim.room_membership inner join sides using (lesson_id, run_id)
        where (lesson_id, run_id) in pairs
    )
select
    lesson_id,
    entity,
    countIf(sides = 2) as added,
    countIf(sides = 1) as removed,
    countIf(sides = 3 and versions > 1) as changed,
    any(description_a) as before,
    any(description_b) as after
from
    (
        select
            lesson_id,
            entity,
            item,
            groupBitOr(side) as sides,
            uniqExact(attributes) as versions,
            anyIf(description, side = 1) as description_a,
            anyIf(description, side = 2) as description_b
        from items
        group by lesson_id, entity, item
    )
group by lesson_id, entity
order by lesson_id, entity
