"""A whole day preheated through the real warehouse, compared with the generator's oracle."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

import pytest
from preheat_world import PreheatWorld, land_module_world, rows

from classpulse.preheat import RunReport, run_preheat

DAY = date(2026, 3, 2)
HUGE = 3000
TREE_KINDS = {
    "flat": (),
    "tutor_team_group": ("tutor", "team", "group"),
    "tutor_small_class": ("tutor", "small_class"),
    "lpc_wechat_group": ("lpc", "wechat_group"),
    "lpc": ("lpc",),
}


@pytest.fixture(scope="module")
def built(warehouse, kafka_broker, tmp_path_factory) -> tuple[PreheatWorld, RunReport]:
    world = land_module_world(
        warehouse, kafka_broker, tmp_path_factory, DAY, seed=33, huge_lessons=(HUGE,)
    )
    return world, run_preheat(world.settings, DAY, max_batch_students=4000)


def test_every_lesson_of_the_day_is_built_checked_and_published(built) -> None:
    world, report = built
    assert report.planned == report.built == len(world.lesson_ids())
    assert {lesson.lesson_id for lesson in report.lessons} == set(world.lesson_ids())
    cancelled = sum(lesson.status == "cancelled" for _, lesson in world.lessons())
    assert cancelled > 0
    assert report.status_counts() == {"built": report.built - cancelled, "cancelled": cancelled}
    assert len({lesson.batch_no for lesson in report.lessons}) > 1
    assert report.published_at is not None and report.withheld == []
    assert [finding for finding in report.findings if finding.severity == "error"] == []
    assert all(lesson.errors == 0 for lesson in report.lessons)
    current = rows(
        world.settings,
        "SELECT DISTINCT run_id FROM dim.lesson_current_run WHERE lesson_date = {day:Date}",
        day=DAY,
    )
    assert current == [(report.run_id,)]


def test_rooms_are_3n_plus_1_with_tutors_on_camera_and_1_otherwise(built) -> None:
    world, _ = built
    rooms: dict[int, Counter[tuple[str, int]]] = defaultdict(Counter)
    for lesson_id, role, tutor in rows(
        world.settings,
        "SELECT lesson_id, room_role, tutor_id FROM dim.live_room_current "
        "WHERE lesson_date = {day:Date}",
        day=DAY,
    ):
        rooms[lesson_id][(role, tutor)] += 1
    on_camera_sizes = []
    for course, lesson in world.lessons():
        policy = course.policy
        built_rooms = rooms.get(lesson.lesson_id, Counter())
        if lesson.status == "cancelled":
            assert not built_rooms, lesson.lesson_id
            continue
        expected = Counter({("main", 0): 1})
        tutors = {tutor for tutor, _ in world.placements(lesson.lesson_id).values() if tutor}
        if policy.room_policy == "tutor_on_camera" and policy.preheat_mode != "minimal":
            for tutor in tutors:
                for role in ("pre_class", "in_class", "post_class"):
                    expected[(role, tutor)] = 1
            assert sum(built_rooms.values()) == 3 * len(tutors) + 1
            on_camera_sizes.append(len(tutors))
        else:
            assert sum(built_rooms.values()) == 1, (lesson.lesson_id, policy.policy_name)
        assert built_rooms == expected, lesson.lesson_id
    assert max(on_camera_sizes) >= 6  # the huge lesson: 3000 students, 500 per tutor
    huge = max(world.lesson_ids())
    assert sum(rooms[huge].values()) == 19


def test_org_tree_shape_follows_the_org_policy(built) -> None:
    world, _ = built
    nodes: dict[int, dict[int, tuple]] = defaultdict(dict)
    for row in rows(
        world.settings,
        "SELECT lesson_id, node_id, parent_node_id, root_node_id, node_kind, depth, source_id, "
        "path, student_count FROM dim.org_node_current WHERE lesson_date = {day:Date}",
        day=DAY,
    ):
        nodes[row[0]][row[1]] = row[2:]
    shapes_seen = set()
    for course, lesson in world.lessons():
        tree = nodes.get(lesson.lesson_id, {})
        if lesson.status == "cancelled":
            assert tree == {}
            continue
        policy = course.policy
        roots = [node for node, (parent, *_rest) in tree.items() if parent == 0]
        assert len(roots) == 1
        (root,) = roots
        assert tree[root][5] == f"lesson:{lesson.lesson_id}" and tree[root][3] == 0
        kinds = () if policy.preheat_mode == "minimal" else TREE_KINDS[policy.org_policy]
        placements = world.placements(lesson.lesson_id)
        assert tree[root][6] == len(placements)
        children: dict[int, list[int]] = defaultdict(list)
        for node, (parent, root_id, kind, depth, source, path, _count) in tree.items():
            assert root_id == root
            if node == root:
                continue
            children[parent].append(node)
            parent_row = tree[parent]
            assert parent_row[3] == depth - 1
            assert path == f"{parent_row[5]}/{kind}:{source}"
            assert kind == kinds[depth - 1], (lesson.lesson_id, path)
        for node, (_parent, _root, kind, _depth, _source, _path, count) in tree.items():
            below = sum(tree[child][6] for child in children[node])
            direct = count - below
            if node == root:  # only students without a tutor sit at the root
                assert direct == sum(1 for tutor, _ in placements.values() if not tutor)
            elif children[node]:
                assert direct == 0
            if kind == "group":
                assert 1 <= count <= policy.group_size
            if kind == "team":
                assert len(children[node]) <= policy.team_size
        tutors = {tree[node][4] for node in tree if tree[node][2] in {"tutor", "lpc"}}
        assert tutors == {tutor for tutor, _ in placements.values() if tutor}
        shapes_seen.add((policy.org_policy, policy.preheat_mode == "minimal"))
    assert {shape for shape, minimal in shapes_seen if not minimal} == set(TREE_KINDS)


def test_every_enrolled_student_sits_in_one_node_and_the_rooms_of_the_policy(built) -> None:
    world, _ = built
    seats: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    for lesson_id, student, role, room_tutor, node_path, tutor, class_id in rows(
        world.settings,
        "SELECT member.lesson_id, member.student_id, member.room_role, room.tutor_id, "
        "node.path, member.tutor_id, member.class_id "
        "FROM dim.room_membership_current AS member "
        "INNER JOIN dim.live_room_current AS room ON room.room_id = member.room_id "
        "INNER JOIN dim.org_node_current AS node ON node.node_id = member.group_node_id "
        "WHERE member.lesson_date = {day:Date}",
        day=DAY,
    ):
        seats[(lesson_id, student)].append((role, room_tutor, node_path, tutor, class_id))
    expected_seats = 0
    for course, lesson in world.lessons():
        policy = course.policy
        placements = world.placements(lesson.lesson_id)
        built_students = {student for lesson_id, student in seats if lesson_id == lesson.lesson_id}
        assert built_students == set(placements), lesson.lesson_id
        for student, (tutor, class_id) in placements.items():
            seat = seats[(lesson.lesson_id, student)]
            paths = {path for _, _, path, _, _ in seat}
            assert len(paths) == 1, (lesson.lesson_id, student)
            (path,) = paths
            if tutor:
                assert f"/{'lpc' if 'lpc' in policy.org_policy else 'tutor'}:{tutor}" in path
            else:
                assert path == f"lesson:{lesson.lesson_id}"
            if class_id:
                assert path.endswith(f":{class_id}")
            on_camera = (
                policy.room_policy == "tutor_on_camera" and policy.preheat_mode == "full" and tutor
            )
            wanted = [("main", 0)]
            if on_camera:
                wanted += [(role, tutor) for role in ("in_class", "post_class", "pre_class")]
            assert sorted((role, room_tutor) for role, room_tutor, *_ in seat) == sorted(wanted)
            assert {(seat_tutor, seat_class) for *_, seat_tutor, seat_class in seat} == {
                (tutor, class_id)
            }
            expected_seats += len(wanted)
    assert sum(len(seat) for seat in seats.values()) == expected_seats


def test_the_huge_lesson_has_500_students_per_tutor(built) -> None:
    world, report = built
    huge = max(world.lesson_ids())
    (log,) = [lesson for lesson in report.lessons if lesson.lesson_id == huge]
    groups = 500 // 6 + 1  # 84 groups of up to 6 per tutor
    teams = -(-groups // 6)
    assert (log.students, log.tutors, log.rooms, log.members) == (HUGE, 6, 19, 4 * HUGE)
    assert log.nodes == 1 + 6 * (1 + teams + groups)


def test_mart_views_give_one_row_per_lesson_student_with_tutor_and_group(built) -> None:
    world, _ = built
    ((total, distinct, consistent),) = rows(
        world.settings,
        "SELECT count(), uniqExact(student.lesson_id, student.student_id), "
        "countIf(student.tutor_id = member.tutor_id AND student.group_node_id = member.group_node_id) "
        "FROM dim.lesson_student_current AS student "
        "INNER JOIN dim.room_membership_current AS member "
        "ON member.lesson_id = student.lesson_id AND member.student_id = student.student_id "
        "AND member.room_role = 'main' WHERE student.lesson_date = {day:Date}",
        day=DAY,
    )
    placed = sum(len(world.placements(lesson_id)) for lesson_id in world.lesson_ids())
    assert total == distinct == consistent == placed
