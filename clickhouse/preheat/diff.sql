-- Diff two preheats per lesson (seed: 预热回归diff检查工具): rooms, org nodes and memberships
-- added, removed or changed from side A to side B, plus the lesson's own build (status and
-- policy). Side A is run run_a or, when run_a = 0, what readers currently see; side B is
-- run run_b. Items are matched by their stable ids (room, node, room+student); an item
-- present on both sides whose attributes differ counts as changed. No lessons = all.
-- The ClickHouse grammar of sqlfluff reads format( as the FORMAT clause, which ends the select
-- list early (then: trailing comma, unused CTE, unknown table) and gives it a wrong picture of
-- the layout, whose fixes it cannot apply. The engine parses it.
-- noqa: disable=CV03,ST03,RF01,LT02,LT08
WITH
    side_a AS (
        SELECT lesson_id, run_id FROM dim.lesson_current_run WHERE {run_a:UInt64} = 0
        UNION ALL
        SELECT lesson_id, run_id FROM dim.preheat_lesson_log
        WHERE {run_a:UInt64} != 0 AND run_id = {run_a:UInt64}
    ),
    scope AS (
        SELECT lesson_id FROM dim.preheat_lesson_log
        WHERE
            run_id = {run_b:UInt64}
            AND (empty({lessons:Array(UInt64)}) OR has({lessons:Array(UInt64)}, lesson_id))
        UNION DISTINCT
        SELECT lesson_id FROM dim.preheat_lesson_log
        WHERE
            {run_a:UInt64} != 0
            AND run_id = {run_a:UInt64}
            AND (empty({lessons:Array(UInt64)}) OR has({lessons:Array(UInt64)}, lesson_id))
    ),
    -- the (lesson, run) pairs of each side: 1 = A, 2 = B (a pair may be on both)
    sides AS (
        SELECT lesson_id, run_id, 1 AS side FROM side_a
        WHERE lesson_id IN (SELECT lesson_id FROM scope)
        UNION ALL
        SELECT lesson_id, {run_b:UInt64}, 2 FROM scope
    ),
    pairs AS (SELECT DISTINCT lesson_id, run_id FROM sides),
    -- every item of either side once per side it is on: its id and a hash of its attributes
    items AS (
        SELECT lesson_id, 'lesson' AS entity, lesson_id AS item, side,
            cityHash64(build_status, policy_id, biz_type, stream_policy, org_policy, room_policy, preheat_mode) AS attributes,
            format('{} policy {} {}/{}/{}/{}', toString(build_status), toString(policy_id),
                biz_type, org_policy, room_policy, preheat_mode) AS description
        FROM dim.preheat_lesson_log INNER JOIN sides USING (lesson_id, run_id)
        WHERE (lesson_id, run_id) IN pairs
        UNION ALL
        SELECT lesson_id, 'room', room_id, side,
            cityHash64(room_role, tutor_id, scope_node_id, biz_type, stream_policy, starts_at, ends_at), ''
        FROM dim.live_room INNER JOIN sides USING (lesson_id, run_id)
        WHERE (lesson_id, run_id) IN pairs
        UNION ALL
        SELECT lesson_id, 'node', node_id, side,
            cityHash64(parent_node_id, root_node_id, node_kind, depth, source_id, path, student_count), ''
        FROM dim.org_node INNER JOIN sides USING (lesson_id, run_id)
        WHERE (lesson_id, run_id) IN pairs
        UNION ALL
        SELECT lesson_id, 'member', cityHash64(room_id, student_id), side,
            cityHash64(node_id, tutor_id, class_id, room_role), ''
        FROM dim.room_membership INNER JOIN sides USING (lesson_id, run_id)
        WHERE (lesson_id, run_id) IN pairs
    )
SELECT
    lesson_id,
    entity,
    countIf(sides = 2) AS added,
    countIf(sides = 1) AS removed,
    countIf(sides = 3 AND versions > 1) AS changed,
    any(description_a) AS before,
    any(description_b) AS after
FROM
    (
        SELECT
            lesson_id,
            entity,
            item,
            groupBitOr(side) AS sides,
            uniqExact(attributes) AS versions,
            anyIf(description, side = 1) AS description_a,
            anyIf(description, side = 2) AS description_b
        FROM items
        GROUP BY lesson_id, entity, item
    )
GROUP BY lesson_id, entity
ORDER BY lesson_id, entity
