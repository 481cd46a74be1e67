"""The ads marts behind the report (dbt_project/models/ads/report_marts.yml), each against an
independent computation in Python.

The generated day of tests/report/conftest.py went through Flink, the loader, the preheat and
dbt. The expectations come from the generator's own marts (``_expected/*.jsonl``, which the
offline contract marts equal row for row, tests/e2e) and, for the tutor and group attribution,
the published preheat dimension read back as rows; every aggregate is recomputed here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client

from classpulse.config import Settings


def expected_rows(settings: Settings, mart: str) -> list[dict[str, Any]]:
    path = Path(settings.topics_dir) / "_expected" / f"{mart}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def query(client: Client, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in client.query(sql).result_rows]


def keyed(client: Client, sql: str, key_columns: int) -> dict[Any, tuple[Any, ...]]:
    """The rows of ``sql`` by their first ``key_columns`` values (the value itself when one),
    each the tuple of the others."""
    rows = query(client, sql)
    if key_columns == 1:
        return {row[0]: row[1:] for row in rows}
    return {row[:key_columns]: row[key_columns:] for row in rows}


def approx_rows(rows: dict[Any, tuple[Any, ...]]) -> dict[Any, tuple[Any, ...]]:
    """Floats compared to a relative 1e-9 (sums in another order), everything else exactly."""
    return {
        key: tuple(pytest.approx(v, rel=1e-9) if isinstance(v, float) else v for v in values)
        for key, values in rows.items()
    }


def test_av_quality_curve_is_the_contract_mart_per_window(
    report_settings: Settings, report_client: Client
) -> None:
    sums: dict[str, dict[str, list[float]]] = defaultdict(
        lambda: {"audio": [0.0, 0], "video": [0.0, 0]}
    )
    students: dict[str, set[int]] = defaultdict(set)
    for row in expected_rows(report_settings, "av_quality_30s"):
        kind = "audio" if row["event"].endswith("_AUDIO_STATE") else "video"
        assert kind == "audio" or row["event"].endswith("_VIDEO_STATE"), row
        sums[row["start_time"]][kind][0] += row["event_sum"]
        sums[row["start_time"]][kind][1] += row["event_count"]
        students[row["start_time"]].add(row["user_id"])
    expected = {}
    for start, kinds in sums.items():
        day, clock = start.split(" ")
        hours, minutes, seconds = (int(part) for part in clock.split(":"))
        (audio_sum, audio_n), (video_sum, video_n) = kinds["audio"], kinds["video"]
        expected[start] = (
            day,
            hours * 3600 + minutes * 60 + seconds,
            audio_n,
            video_n,
            audio_sum / audio_n if audio_n else None,
            video_sum / video_n if video_n else None,
            len(students[start]),
        )
    assert expected
    got = {
        row[0]: row[1:]
        for row in query(
            report_client,
            "SELECT formatDateTime(start_time, '%F %T'), toString(event_date), second_of_day, "
            "audio_readings, video_readings, audio_lost_avg, video_fr_avg, students "
            "FROM ads.student_av_quality_curve_30s",
        )
    }
    assert got == approx_rows(expected)


def preheat_members(client: Client) -> list[dict[str, Any]]:
    """The published preheat's (lesson, student) rows, as the report's day saw them."""
    columns = ("day", "student", "tutor", "source", "kind", "group")
    rows = query(
        client,
        "SELECT toString(lesson_date), student_id, tutor_id, toString(tutoring_source), "
        "group_kind, group_node_id FROM dim.lesson_student_current",
    )
    return [dict(zip(columns, row, strict=True)) for row in rows]


def events_per_student(settings: Settings) -> dict[tuple[str, int], int]:
    """(day, student) -> classified events, from the generator's classroom_performance_1min."""
    events: dict[tuple[str, int], int] = defaultdict(int)
    for row in expected_rows(settings, "classroom_performance_1min"):
        events[(row["start_time"][:10], row["user_id"])] += row["event_count"]
    return events


def shared_events(members, events) -> list[dict[str, Any]]:
    """Each member row with its share of the student's events (split across the day's lessons)."""
    lessons: dict[tuple[str, int], int] = defaultdict(int)
    for member in members:
        lessons[(member["day"], member["student"])] += 1
    return [
        {
            **member,
            "share": events.get((member["day"], member["student"]), 0)
            / lessons[(member["day"], member["student"])],
            "engaged": events.get((member["day"], member["student"]), 0) > 0,
        }
        for member in members
    ]


def test_tutor_and_group_kind_engagement_recomputed(
    report_settings: Settings, report_client: Client, report_day: date
) -> None:
    members = preheat_members(report_client)
    events = events_per_student(report_settings)
    rows = shared_events(members, events)
    assert rows and any(row["engaged"] for row in rows)

    tutors: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    kinds: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        tutors[(row["day"], row["tutor"])].append(row)
        kinds[(row["day"], row["kind"])].append(row)

    def engagement(group: list[dict[str, Any]]) -> tuple[int, int, float]:
        return (
            len({row["student"] for row in group}),
            len({row["student"] for row in group if row["engaged"]}),
            sum(row["share"] for row in group),
        )

    expected_tutors = {
        key: (
            ", ".join(sorted({row["kind"] for row in group})),
            ", ".join(sorted({row["source"] for row in group if row["source"]})),
            *engagement(group),
        )
        for key, group in tutors.items()
    }
    got_tutors = keyed(
        report_client,
        "SELECT toString(event_date), tutor_id, group_kinds, tutoring_sources, "
        "booked_students, engaged_students, student_events FROM ads.tutor_engagement_daily",
        2,
    )
    assert got_tutors == approx_rows(expected_tutors)
    assert report_day.isoformat() in {day for day, _ in got_tutors}

    expected_kinds = {
        key: (
            len({row["tutor"] for row in group}),
            len({row["group"] for row in group}),
            *engagement(group),
        )
        for key, group in kinds.items()
    }
    got_kinds = keyed(
        report_client,
        "SELECT toString(event_date), group_kind, tutors, group_nodes, booked_students, "
        "engaged_students, student_events FROM ads.group_kind_engagement_daily",
        2,
    )
    assert got_kinds == approx_rows(expected_kinds)


def test_engagement_attribution_counts_the_unplaced(
    report_settings: Settings, report_client: Client
) -> None:
    placed = {(member["day"], member["student"]) for member in preheat_members(report_client)}
    per_day: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (day, student), count in events_per_student(report_settings).items():
        totals = per_day[day]
        totals[0] += 1
        totals[1] += count
        if (day, student) not in placed:
            totals[2] += 1
            totals[3] += count
    expected = {day: tuple(totals) for day, totals in per_day.items()}
    assert expected
    got = keyed(
        report_client,
        "SELECT toString(event_date), students, student_events, unplaced_students, "
        "unplaced_events FROM ads.engagement_attribution_daily",
        1,
    )
    assert got == expected


def test_registration_trend_decodes_the_contract_mart(
    report_settings: Settings, report_client: Client
) -> None:
    expected = {}
    for row in expected_rows(report_settings, "registrations_hourly_by_level"):
        key = row["reg_hour"]
        day = date(key // 1_000_000, key // 10_000 % 100, key // 100 % 100)
        expected[(day, key % 100, row["level"])] = (key, row["leads"])
    assert expected
    got = {
        (day, hour, level): (key, leads)
        for day, hour, level, key, leads in query(
            report_client,
            "SELECT reg_date, reg_hour_of_day, toString(level), reg_hour, leads "
            "FROM ads.registrations_trend_hourly",
        )
    }
    assert got == expected


def test_student_events_by_hour_and_type_recomputed(
    report_settings: Settings, report_client: Client
) -> None:
    hourly: dict[tuple[str, int, str], int] = defaultdict(int)
    daily: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [0, set(), set()])
    for row in expected_rows(report_settings, "classroom_performance_1min"):
        day, hour = row["start_time"][:10], int(row["start_time"][11:13])
        hourly[(day, hour, row["event"])] += row["event_count"]
        totals = daily[(day, row["event"])]
        totals[0] += row["event_count"]
        totals[1].add(row["user_id"])
        totals[2].add(row["webserver_id"])
    assert hourly
    got_hourly = {
        (day, hour, event): events
        for day, hour, event, events in query(
            report_client,
            "SELECT toString(event_date), event_hour, toString(event), student_events "
            "FROM ads.student_events_hourly_by_type",
        )
    }
    assert got_hourly == dict(hourly)
    got_daily = keyed(
        report_client,
        "SELECT toString(event_date), toString(event), student_events, students, rooms "
        "FROM ads.student_events_daily_by_type",
        2,
    )
    assert got_daily == {
        key: (events, len(students), len(rooms)) for key, (events, students, rooms) in daily.items()
    }
