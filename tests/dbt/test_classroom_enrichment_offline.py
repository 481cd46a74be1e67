"""The live-classroom marts enriched with the preheated dimension, real time and offline, and
their reconciliation (LIVE_CLASSROOM_CONTRACT.md A.5, C), through Flink (cleaning, labels and
triage with the lookups against this warehouse), the loader, real dbt and real GX.

A generated day puts most lessons in published rooms (some students are no members, some rooms
unknown). ads must equal the pure-Python oracle enriched with the same dimension; rt vs ads
reconciles (late events explain the measures); a re-preheat afterwards is dimension drift that
the differing run explains.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from kafka_helpers import run_settings

from classpulse import pipeline
from classpulse.classroom_help import rules
from classpulse.classroom_help.generator import KnownRoom, LabelsOptions, generate_labels_day
from classpulse.classroom_help.records import LABEL_JOBS
from classpulse.config import Settings
from classpulse.dbt import run_dbt
from classpulse.preheat.publication import publish_dimension
from classpulse.quality import SUITES_DIRECTORY, run_quality
from classpulse.warehouse import get_client

DAY = date(2026, 11, 20)
JOBS = LABEL_JOBS
MODELS = (
    "room_user_labels_30s help_request_triage help_triage_daily rt_room_user_labels_30s "
    "rt_help_request_triage"
)
# eight published rooms; the students of rooms 8004..8007 are members, the others' are not
ROOMS = [
    rules.PublishedRoom(8000 + k, 600 + k, DAY.isoformat(), "in_class", 2, 300 + k, 40 + k, 21)
    for k in range(8)
]
MEMBERS = [
    rules.PublishedMember(600 + k, 8000 + k, 1_500 + k, 300 + k, 70 + k, 80 + k)
    for k in range(4, 8)
]
KNOWN = [
    KnownRoom(r.room_id, r.tutor_id, (1_500 + r.room_id - 8000,) if r.room_id >= 8004 else ())
    for r in ROOMS
]


def query_json(client, sql: str) -> list[dict]:
    data = client.raw_query(
        sql, fmt="JSONEachRow", settings={"output_format_json_quote_64bit_integers": 0}
    )
    return [json.loads(line) for line in data.decode().splitlines()]


def expected_rows(topics: Path, name: str) -> list[dict]:
    path = topics / "_expected" / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_enriched_marts_reconcile_and_a_re_preheat_is_explained_drift(
    dbt_warehouse: Settings, empty_kafka: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # found, not fast: a loaded machine must not turn the stream's lookups into lookup_timeout
    monkeypatch.setenv("CLASSPULSE_DIM_LOOKUP_TIMEOUT", "30 s")
    # the tests' broker, never var/kafka
    settings = run_settings(dbt_warehouse, empty_kafka, tmp_path)
    publish_dimension(settings, ROOMS, MEMBERS, run_id=21)
    day = generate_labels_day(
        LabelsOptions(day=DAY, seed=11, lessons=24, lesson_minutes=4, late_share=0.01),
        settings.topics_dir,
        rooms=KNOWN,
    )
    assert day.late
    pipeline.run_flink(settings, jobs=JOBS)
    pipeline.load(settings)
    run_dbt(settings, ["build", "--select", MODELS])
    client = get_client(settings)

    labels = rules.enrich_rows(
        expected_rows(settings.topics_dir, "room_user_labels_30s"), "start_time", ROOMS, MEMBERS
    )
    columns = list(labels[0])
    got = query_json(
        client,
        f"SELECT {', '.join(columns)} FROM ads.room_user_labels_30s "
        "ORDER BY start_time, room_id, user_id",
    )
    assert got == labels
    assert {row["dim_status"] for row in got} == {"ok", "member_unknown", "room_unknown"}
    triage = rules.enrich_rows(
        expected_rows(settings.topics_dir, "help_request_triage"), "request_time", ROOMS, MEMBERS
    )
    got = query_json(
        client,
        f"SELECT {', '.join(triage[0])} FROM ads.help_request_triage ORDER BY request_id",
    )
    assert got == sorted(triage, key=lambda row: row["request_id"])

    # rt looked the same published run up in the stream: no dimension drift, measures explained
    # the reconciliation reads every mart's both sides: build them all (most are empty here)
    run_dbt(settings, ["run", "--select", "+rt_vs_offline_reconciliation"])
    recon = query_json(
        client,
        "SELECT mart, toString(day) AS day, rt_total, ads_total, explained_by_late, unexplained, "
        "dim_drift_rows, dim_drift_unexplained, status FROM ads.rt_vs_offline_reconciliation "
        "WHERE mart IN ('room_user_labels_30s', 'help_request_triage') ORDER BY mart, day",
    )
    assert recon, "no reconciliation rows for the live-classroom marts"
    for row in recon:
        assert row["unexplained"] == 0, row
        assert row["dim_drift_rows"] == 0, row
        assert row["status"] == "ok", row
    labels_row = next(r for r in recon if r["mart"] == "room_user_labels_30s")
    late = sum(1 for m in day.late if m.topic != "classroom_help_request")
    assert labels_row["ads_total"] - labels_row["rt_total"] == labels_row["explained_by_late"]
    assert 0 < labels_row["explained_by_late"] <= late

    # a re-preheat moves every room to another tutor: ads follows, rt keeps what it saw
    publish_dimension(
        settings,
        [replace(r, tutor_id=r.tutor_id + 1000, run_id=22) for r in ROOMS],
        [replace(m, tutor_id=m.tutor_id + 1000) for m in MEMBERS],
        run_id=22,
    )
    run_dbt(settings, ["run", "--select", "room_user_labels_30s rt_vs_offline_reconciliation"])
    drift = query_json(
        client,
        "SELECT dim_drift_rows, dim_drift_unexplained, status "
        "FROM ads.rt_vs_offline_reconciliation WHERE mart = 'room_user_labels_30s'",
    )
    # every row on both sides whose room is known drifted (a window whose every message was
    # late has no rt row)
    known_rows = client.query(
        "SELECT count() FROM rt.room_user_labels_30s WHERE dim_status != 'room_unknown'"
    ).result_rows[0][0]
    assert known_rows > 0
    assert sum(row["dim_drift_rows"] for row in drift) == known_rows
    assert all(row["dim_drift_unexplained"] == 0 and row["status"] == "ok" for row in drift)

    # the GX suites of the new marts pass on what was built
    directory = settings.root / SUITES_DIRECTORY
    report = run_quality(
        settings,
        [
            directory / "ads" / "room_user_labels_30s.yml",
            directory / "ads" / "help_triage_daily.yml",
            directory / "rt" / "room_user_labels_30s.yml",
            directory / "rt" / "help_request_triage.yml",
        ],
        build_docs=False,
    )
    assert report.success, [(r.suite, [str(o) for o in r.failed]) for r in report.failed]
