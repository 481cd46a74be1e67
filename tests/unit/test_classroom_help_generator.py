"""The live-classroom generator (LIVE_CLASSROOM_CONTRACT.md A.1): deterministic, every case present."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

from classpulse.classroom_help.generator import (
    PROBLEMS,
    KnownRoom,
    LabelsOptions,
    generate_labels_day,
)
from classpulse.classroom_help.records import TOPICS


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    options = LabelsOptions(day=date(2026, 11, 20), seed=9, lessons=6)
    generate_labels_day(options, tmp_path / "a")
    generate_labels_day(options, tmp_path / "b")
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")


def test_a_day_has_every_problem_outcome_and_bad_input(tmp_path: Path) -> None:
    rooms = [KnownRoom(room_id=2**64 - 1 - n, tutor_id=5, student_ids=(77 + n,)) for n in range(50)]
    day = generate_labels_day(
        LabelsOptions(day=date(2026, 11, 20), lessons=400, lesson_minutes=6), tmp_path, rooms
    )
    assert {plan.problem for plan in day.lessons} >= set(PROBLEMS)
    assert {plan.reporting for plan in day.lessons} >= {
        "pressed",
        "redelivered",
        "expired",
        "fm_present",
        "unreported",
    }
    assert {reason for _, reason in day.rejected} == {
        "malformed_json",
        "missing_field",
        "wrong_type",
        "future_timestamp",
    }
    assert all(day.accepted[topic] for topic in TOPICS) and day.late
    room_ids = {plan.room_id for plan in day.lessons}
    assert room_ids & {room.room_id for room in rooms} and room_ids - {r.room_id for r in rooms}
    triage = [
        json.loads(line)
        for line in (tmp_path / "_expected" / "help_request_triage.jsonl").read_text().splitlines()
    ]
    outcomes = Counter((row["source"], row["outcome"], row["category"]) for row in triage)
    for category in (
        "device",
        "peer_device",
        "enter",
        "peer_absent",
        "network",
        "media",
        "courseware",
    ):
        assert outcomes[("help", "auto", category)], category
    for category in ("expired", "fm_present", "uncovered"):
        assert outcomes[("help", "manual", category)], category
    assert outcomes[("help", "merged", "duplicate")]
    assert any(source == "detected" for source, _, _ in outcomes)
    statuses = Counter(row["verify_status"] for row in triage)
    assert statuses["resolved"] and statuses["escalated"]
