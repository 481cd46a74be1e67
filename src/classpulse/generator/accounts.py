"""Snapshot topics: the channel dictionary, accounts (users, students) and orders."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from classpulse.generator.contract import (
    CHANNEL,
    HOUR_MS,
    LEVELS_AD,
    ORDER,
    OTHER_LEVELS,
    STUDENT,
    USER,
)
from classpulse.generator.options import BusinessClock, GeneratorOptions, derive_random
from classpulse.generator.records import SnapshotRecord
from classpulse.generator.world import World

NORMAL_NAMES = (
    "王小明", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周杰", "吴敏",
    "Lucy Wang", "Tom Li", "Amy Zhang", "Kevin Liu", "Emma Chen", "Jack Zhao",
)  # fmt: skip
TEST_NAMES = (
    "测试学员{n}",
    "test_user{n}",
    "DM_demo{n}",
    "qa测试{n}",
    "autotest{n}",
    "Contestant {n}",
)
NEAR_MISS_NAMES = ("Test Li {n}", "TEST{n}", "xDM_{n}", "dm_lower{n}", "测 试{n}", "Tester {n}")
FINAL_STATUSES = (("NORMAL", 880), ("FROZEN", 50), ("DELETED", 30), ("normal", 20), ("LOCKED", 20))


@dataclass
class SnapshotBuilder:
    """Collects snapshot versions; arrival is update_time plus a small delivery delay."""

    rng: random.Random
    clock: BusinessClock
    records: dict[str, list[SnapshotRecord]] = field(
        default_factory=lambda: {STUDENT: [], USER: [], CHANNEL: [], ORDER: []}
    )
    sequence: int = 0

    def add(
        self,
        topic: str,
        update_ms: int,
        payload: dict[str, Any],
        arrival_delay_ms: int | None = None,
    ) -> None:
        payload["update_time"] = self.clock.format(update_ms)
        delay = arrival_delay_ms if arrival_delay_ms is not None else int(self.rng.random() * 1_500)
        arrival = (update_ms // 1000) * 1000 + delay
        self.records[topic].append(SnapshotRecord(arrival, self.sequence, payload))
        self.sequence += 1

    def add_stale(self, topic: str, payload: dict[str, Any], after_ms: int) -> None:
        """Re-send an old version (its old update_time) well after newer ones."""
        resent = dict(payload)
        arrival = after_ms + self.rng.randint(600_000, 3_600_000)
        self.records[topic].append(SnapshotRecord(arrival, self.sequence, resent))
        self.sequence += 1


def build_channels(
    options: GeneratorOptions, clock: BusinessClock, snapshots: SnapshotBuilder
) -> tuple[list[str], list[str]]:
    """Channel dictionary; returns (ids with level A-D at first version, other-level ids)."""
    rng = derive_random(options.seed, "channels")
    regular: list[str] = []
    other: list[str] = []
    count = max(len(OTHER_LEVELS) + 4, round(20 + 4 * options.scale))
    for k in range(count):
        channel_id = str(100 + k)
        level = (
            OTHER_LEVELS[k]
            if k < len(OTHER_LEVELS)
            else (rng.choice(OTHER_LEVELS) if rng.random() < 0.1 else rng.choice(LEVELS_AD))
        )
        (regular if level in LEVELS_AD else other).append(channel_id)
        created = clock.day_start_ms - rng.randrange(30, 400) * 86_400_000
        payload = {
            "id": channel_id,
            "chinese_name": f"渠道{k}",
            "english_name": f"channel_{k}",
            "level": level,
            "pid": str(10 + k % 7),
            "create_time": clock.format(created),
            "update_time": "",
            "dept_id": str(900 + k % 5),
        }
        first = clock.day_start_ms + rng.randrange(0, HOUR_MS // 2)  # before any account
        snapshots.add(CHANNEL, first, payload)
        if k == len(OTHER_LEVELS) or rng.random() < 0.25:
            changed = dict(payload, level=rng.choice(LEVELS_AD + OTHER_LEVELS[:1]))
            later = first + rng.randrange(HOUR_MS, 15 * HOUR_MS)
            snapshots.add(CHANNEL, later, changed)
            if k == len(OTHER_LEVELS):
                snapshots.add_stale(CHANNEL, payload, later)
    return regular, other


@dataclass
class AccountPlan:
    user_id: int
    register_ms: int
    name: str
    final_status: str
    channel_id: str | None  # None: the student has no channel (null, or the key absent)
    has_user: bool = True
    has_student: bool = True
    channel_absent: bool = False  # with channel_id None: the key is left out


def pick_weighted(rng: random.Random, options: Sequence[tuple[str, int]]) -> str:
    roll = rng.random() * sum(weight for _, weight in options)
    for value, weight in options:
        roll -= weight
        if roll < 0:
            return value
    return options[-1][0]


def pick_register_ms(rng: random.Random, clock: BusinessClock) -> int:
    """Registrations spread over the day, peaking late morning and evening."""
    hours = [
        (h, 1 + 3 * (9 <= h <= 11) + 4 * (19 <= h <= 21) + 2 * (14 <= h <= 17)) for h in range(24)
    ]
    hour = int(pick_weighted(rng, [(str(h), w) for h, w in hours]))
    return clock.at_day_fraction(hour) + rng.randrange(0, HOUR_MS)


def pick_account_name(rng: random.Random, index: int, number: int) -> str:
    """The first accounts cover every test-account and near-miss shape, then a few percent."""
    if index < len(TEST_NAMES):
        return TEST_NAMES[index].format(n=number)
    if index < len(TEST_NAMES) + len(NEAR_MISS_NAMES):
        return NEAR_MISS_NAMES[index - len(TEST_NAMES)].format(n=number)
    roll = rng.random()
    if roll < 0.04:
        return rng.choice(TEST_NAMES).format(n=number)
    if roll < 0.07:
        return rng.choice(NEAR_MISS_NAMES).format(n=number)
    return f"{rng.choice(NORMAL_NAMES)}{number % 1000}"


def plan_accounts(
    options: GeneratorOptions,
    clock: BusinessClock,
    world: World,
    regular: list[str],
    other: list[str],
) -> list[AccountPlan]:
    rng = derive_random(options.seed, "accounts")
    plans: list[AccountPlan] = []
    new_accounts = options.scaled(420, minimum=16)
    for k in range(new_accounts):
        user_id = 3_000_000 + k
        plans.append(
            AccountPlan(
                user_id=user_id,
                register_ms=pick_register_ms(rng, clock),
                name=pick_account_name(rng, k, user_id),
                final_status=("FROZEN", "normal")[k % 2]
                if k in (15, 16)
                else pick_weighted(rng, FINAL_STATUSES),
                channel_id=pick_student_channel(rng, k, regular, other),
                has_user=k != 13 and (k < 18 or rng.random() >= 0.03),
                has_student=k != 14 and (k < 18 or rng.random() >= 0.04),
            )
        )
        if k in (18, 19):  # a NORMAL account with no channel: null (18) or absent (19)
            plans[-1].channel_id, plans[-1].channel_absent = None, k == 19
            plans[-1].final_status, plans[-1].name = (
                "NORMAL",
                f"{NORMAL_NAMES[k % len(NORMAL_NAMES)]}{k}",
            )
            plans[-1].has_user = plans[-1].has_student = True
    for k, user_id in enumerate(
        rng.sample(world.learners, min(len(world.learners), options.scaled(180)))
    ):
        plans.append(
            AccountPlan(
                user_id=user_id,
                register_ms=clock.day_start_ms - rng.randrange(1, 30 * 86_400) * 1000,
                name=f"{rng.choice(NORMAL_NAMES)}{user_id % 1000}",
                final_status=pick_weighted(rng, FINAL_STATUSES),
                channel_id=pick_student_channel(rng, k + 100, regular, other),
            )
        )
    return plans


def pick_student_channel(
    rng: random.Random, index: int, regular: list[str], other: list[str]
) -> str | None:
    if index == 17:
        return "99999"
    roll = rng.random()
    if roll < 0.02:
        return None  # no channel at all (null or absent)
    if roll < 0.07:
        return str(90_000 + rng.randrange(0, 9_000))  # no such channel
    if roll < 0.17 and other:
        return rng.choice(other)
    return rng.choice(regular)


def emit_account(
    plan: AccountPlan, index: int, clock: BusinessClock, snapshots: SnapshotBuilder
) -> None:
    """User and student versions of one account, with status changes, ties and stale re-sends."""
    rng = snapshots.rng
    user_key = str(plan.user_id)
    registered_today = plan.register_ms >= clock.day_start_ms
    # a registration is published when it happens; older accounts get today's re-sync
    today = (
        plan.register_ms
        if registered_today
        else clock.at_day_fraction(1) + rng.randrange(0, 5 * HOUR_MS)
    )
    last_ms = clock.day_end_ms - 2_000
    first_ms = min(today + rng.randrange(0, 120_000), last_ms - 10_000)
    user = {
        "id": user_key,
        "name": plan.name,
        "register_date_time": clock.format(plan.register_ms),
        "status": "NORMAL",
        "update_time": "",
    }
    if plan.has_user:
        snapshots.add(USER, first_ms, user)
        versions_ms = first_ms
        if plan.final_status != "NORMAL" or rng.random() < 0.15:
            versions_ms = rng.randrange(first_ms + 1_000, max(first_ms + 2_000, last_ms))
            changed = dict(user, status=plan.final_status)
            snapshots.add(USER, versions_ms, changed)
            if index % 50 == 3 or rng.random() < 0.03:
                snapshots.add_stale(USER, user, versions_ms)
            if index % 50 == 4 or rng.random() < 0.02:
                tie = dict(changed, status="NORMAL" if plan.final_status != "NORMAL" else "FROZEN")
                snapshots.add(USER, versions_ms, tie, arrival_delay_ms=1_900)
    if plan.has_student:
        student_ms = min(first_ms + rng.randrange(1_000, 300_000), last_ms - 5_000)
        moves = index % 50 == 5 or rng.random() < 0.2
        first_channel = rng.choice(("100", "101", "99998")) if moves else plan.channel_id
        absent = plan.channel_absent or (plan.channel_id is None and rng.random() < 0.5)
        student = {"id": user_key, "channel_id": first_channel, "update_time": ""}
        if absent and first_channel is None:
            del student["channel_id"]
        snapshots.add(STUDENT, student_ms, student)
        if moves:  # a channel set -> null sequence when the final channel is None
            moved_ms = rng.randrange(student_ms + 1_000, max(student_ms + 2_000, last_ms))
            moved = dict(student, channel_id=plan.channel_id)
            if absent and plan.channel_id is None:
                del moved["channel_id"]
            snapshots.add(STUDENT, moved_ms, moved)
            if index % 50 == 6 or rng.random() < 0.03:
                snapshots.add_stale(STUDENT, student, moved_ms)


def emit_orphan_students(
    options: GeneratorOptions, clock: BusinessClock, snapshots: SnapshotBuilder, regular: list[str]
) -> None:
    """Students whose id never appears on the user topic."""
    rng = snapshots.rng
    for k in range(options.scaled(12)):
        moment = clock.at_day_fraction(1) + rng.randrange(0, 22 * HOUR_MS)
        snapshots.add(
            STUDENT,
            moment,
            {"id": str(4_000_000 + k), "channel_id": rng.choice(regular), "update_time": ""},
        )


ORDER_FLOWS = (
    ("confirmed", 450),
    ("confirmed_then_canceled", 80),
    ("following", 250),
    ("created", 70),
    ("confirmed_without_time", 40),
    ("confirmed_yesterday", 80),
    ("refund_requested", 30),
)


def build_orders(
    options: GeneratorOptions, clock: BusinessClock, world: World, snapshots: SnapshotBuilder
) -> None:
    rng = derive_random(options.seed, "orders")
    consultants = [300 + k for k in range(options.scaled(10, minimum=3))]
    for k in range(options.scaled(260, minimum=len(ORDER_FLOWS))):
        flow = ORDER_FLOWS[k][0] if k < len(ORDER_FLOWS) else pick_weighted(rng, ORDER_FLOWS)
        emit_order(
            rng, clock, snapshots, k, flow, rng.choice(consultants), rng.choice(world.learners)
        )


def emit_order(
    rng: random.Random,
    clock: BusinessClock,
    snapshots: SnapshotBuilder,
    k: int,
    flow: str,
    cc_id: int,
    student: int,
) -> None:
    created = clock.at_day_fraction(9) + rng.randrange(0, 11 * HOUR_MS)
    ceiling = clock.day_end_ms - 2_000
    base: dict[str, Any] = {
        "id": str(70_000_000 + k),
        "leads_flow_event_id": str(71_000_000 + k),
        "group_id": str(500 + k % 9),
        "cc_id": cc_id,
        "student_id": str(student),
        "order_id": str(88_000_000 + k),
        "leads_id": str(72_000_000 + k),
        "confirm_date_time": None,
        "create_time": clock.format(created),
        "update_time": "",
        "order_create_time": clock.format(created - rng.randrange(0, 3_600) * 1000),
        "canceled_date_time": None,
        "apply_refund_date": None,
        "status": 1,
    }
    if flow == "confirmed_yesterday":
        confirm = clock.day_start_ms - rng.randrange(60, 86_000) * 1000
        snapshots.add(ORDER, created, dict(base, status=3, confirm_date_time=clock.format(confirm)))
        return
    versions: list[tuple[int, dict[str, Any]]] = [(created, dict(base))]
    moment = min(created + rng.randrange(600, 7_200) * 1000, ceiling)
    versions.append((moment, dict(base, status=2)))
    if flow in (
        "confirmed",
        "confirmed_then_canceled",
        "confirmed_without_time",
        "refund_requested",
    ):
        moment = min(moment + rng.randrange(300, 5_400) * 1000, ceiling)
        confirm = None if flow == "confirmed_without_time" else clock.format(moment)
        versions.append((moment, dict(base, status=3, confirm_date_time=confirm)))
        if flow == "confirmed_then_canceled":
            moment = min(moment + rng.randrange(1_800, 10_800) * 1000, ceiling)
            versions.append(
                (moment, dict(versions[-1][1], status=4, canceled_date_time=clock.format(moment)))
            )
        if flow == "refund_requested":
            moment = min(moment + rng.randrange(1_800, 10_800) * 1000, ceiling)
            versions.append(
                (moment, dict(versions[-1][1], status=5, apply_refund_date=clock.format(moment)))
            )
    elif flow == "created":
        versions = versions[:1]
    for update_ms, payload in versions:
        snapshots.add(ORDER, update_ms, payload)
    if len(versions) > 1 and (k % 40 == 7 or rng.random() < 0.03):
        snapshots.add_stale(ORDER, versions[-2][1], versions[-1][0])


def build_snapshots(
    options: GeneratorOptions, clock: BusinessClock, world: World
) -> SnapshotBuilder:
    snapshots = SnapshotBuilder(derive_random(options.seed, "snapshots"), clock)
    regular, other = build_channels(options, clock, snapshots)
    for index, plan in enumerate(plan_accounts(options, clock, world, regular, other)):
        emit_account(plan, index, clock, snapshots)
    emit_orphan_students(options, clock, snapshots, regular)
    build_orders(options, clock, world, snapshots)
    return snapshots


# ---------------------------------------------------------------------------------------
# Bad input: rejected copies
