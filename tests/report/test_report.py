"""The report renders from real marts (built by the real pipeline) into one self-contained page.

Checks: nothing is fetched from anywhere, every section is there in order with its figures,
the figures are real PNGs, the headline numbers equal direct queries, the Great Expectations
verdict shows, and a day without data or an empty warehouse renders "no data" notes.
"""

from __future__ import annotations

import base64
import re
import struct
import zlib
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from clickhouse_connect.driver.client import Client

from classpulse.cli import main
from classpulse.config import Settings
from classpulse.quality import run_quality
from classpulse.report import SECTION_TITLES, format_age, format_count, write_report
from classpulse.warehouse import create_layer_databases, get_client

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Anything that would make the page load something: remote or protocol-relative URLs in
# src/href, scripts, stylesheets, CSS imports and url() references.
EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|<script|<link|@import|url\(""", re.I
)


def split_sections(page: str) -> dict[str, str]:
    """Section id -> its HTML, in page order."""
    return dict(re.findall(r'<section id="([^"]+)">(.*?)</section>', page, re.S))


def image_payloads(fragment: str) -> list[bytes]:
    return [
        base64.b64decode(data, validate=True)
        for data in re.findall(r'<img src="data:image/png;base64,([^"]+)"', fragment)
    ]


def card_value(page: str, metric: str) -> str:
    match = re.search(rf'data-metric="{re.escape(metric)}" data-value="([^"]*)"', page)
    assert match, f"no headline card {metric}"
    return match.group(1)


def table_row(fragment: str, first_cell: str) -> list[str]:
    """The cells of the table row whose first cell is ``first_cell``."""
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", fragment, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no table row starting with {first_cell!r}")


def scalar(client: Client, sql: str, **parameters: object) -> object:
    return client.query(sql, parameters=parameters).result_rows[0][0]


def test_page_is_self_contained(report_page: str) -> None:
    assert report_page.startswith("<!DOCTYPE html>")
    assert not EXTERNAL.search(report_page), EXTERNAL.search(report_page)
    # the only hrefs are the in-page table of contents
    assert set(re.findall(r'href="([^"]*)"', report_page)) == {f"#{key}" for key in SECTION_TITLES}


def test_every_section_is_there_in_order_with_figures(report_page: str) -> None:
    sections = split_sections(report_page)
    assert list(sections) == list(SECTION_TITLES)
    for key, title in SECTION_TITLES.items():
        body = sections[key]
        assert f"<h2>{title.replace('&', '&amp;')}</h2>" in body
        assert 'class="error"' not in body, f"section {key} failed: {body}"
        assert image_payloads(body), f"section {key} has no figure"


def test_figures_are_valid_png(report_page: str) -> None:
    payloads = image_payloads(report_page)
    assert len(payloads) >= len(SECTION_TITLES)
    for png in payloads:
        assert png[:8] == PNG_SIGNATURE
        length, kind = struct.unpack(">I4s", png[8:16])
        assert kind == b"IHDR" and length == 13
        width, height = struct.unpack(">II", png[16:24])
        assert 300 < width < 3000 and 100 < height < 3000
        (crc,) = struct.unpack(">I", png[29:33])
        assert crc == zlib.crc32(png[12:29])
        assert png[-8:-4] == b"IEND"


def test_headline_numbers_match_direct_queries(
    report_page: str, report_client: Client, report_day: date
) -> None:
    assert card_value(report_page, "day") == report_day.isoformat()
    read = scalar(report_client, "SELECT sum(messages_read) FROM ods.topic_accounting")
    rejected = scalar(report_client, "SELECT sum(rejected) FROM ods.topic_accounting")
    late = scalar(report_client, "SELECT count() FROM ods.late_events")
    assert int(card_value(report_page, "messages_read")) == read > 0
    assert int(card_value(report_page, "rejected")) == rejected > 0
    assert int(card_value(report_page, "late_events")) == late
    for reason, count in report_client.query(
        "SELECT reason, count() FROM ods.rejected_messages GROUP BY reason"
    ).result_rows:
        assert f"{reason} {count:,}" in report_page
    # freshness is an age: never negative (its value is the report's, computed when it rendered)
    assert int(card_value(report_page, "freshness")) >= 0

    headline = split_sections(report_page)["headline"]
    day_rows = {
        "classroom_performance_1min": "toDate(start_time) = {day:Date}",
        "av_quality_30s": "toDate(start_time) = {day:Date}",
        "recorded_course_enter_time": "toDate(create_time) = {day:Date}",
        "registrations_hourly_by_level": "intDiv(reg_hour, 100) = toYYYYMMDD({day:Date})",
        "cc_daily_tracking": "attribution_date = {day:Date}",
    }
    for mart, condition in day_rows.items():
        offline = scalar(
            report_client, f"SELECT count() FROM ads.{mart} WHERE {condition}", day=report_day
        )
        realtime = scalar(
            report_client, f"SELECT count() FROM rt.{mart} WHERE {condition}", day=report_day
        )
        assert table_row(headline, mart)[1:] == [format_count(offline), format_count(realtime)]
        assert offline > 0, mart
    if scalar(report_client, "SELECT count() FROM ods.mart_accounting"):  # Flink ran
        assert table_row(headline, "classroom_performance_1min")[2] not in ("0", "–")


def test_sections_agree_with_the_marts(
    report_page: str, report_client: Client, report_day: date
) -> None:
    sections = split_sections(report_page)
    leads = scalar(
        report_client,
        "SELECT sum(leads) FROM ads.registrations_hourly_by_level "
        "WHERE intDiv(reg_hour, 100) = toYYYYMMDD({day:Date})",
        day=report_day,
    )
    assert table_row(sections["registrations"], "all")[1] == format_count(leads)
    events = dict(
        report_client.query(
            "SELECT event, sum(event_count) FROM ads.classroom_performance_1min "
            "WHERE toDate(start_time) = {day:Date} GROUP BY event",
            parameters={"day": report_day},
        ).result_rows
    )
    assert table_row(sections["engagement"], "Match wrong")[1] == format_count(
        events["STUDENT_MATCH_WRONG"]
    )
    # the preheat dimension is joined: tutors are listed, not "no data"
    assert "Tutors by student events" in sections["engagement"]
    worst = scalar(
        report_client,
        "SELECT room_id FROM ads.classroom_quality_daily WHERE event_date = {day:Date} "
        "ORDER BY greatest(bad_audio_share, bad_video_share) DESC, audio_lost_avg DESC, room_id "
        "LIMIT 1",
        day=report_day,
    )
    assert re.search(r"Worst rooms.*?<tbody><tr[^>]*><td>(\d+)</td>", sections["av-quality"])[
        1
    ] == str(worst)
    mismatches = scalar(
        report_client, "SELECT countIf(status != 'ok') FROM ads.rt_vs_offline_reconciliation"
    )
    assert f"over all days: {mismatches:,} of" in sections["data-quality"]
    assert "Great Expectations: not run" in sections["data-quality"]


def test_quality_verdict_is_shown(
    report_settings: Settings, report_day: date, tmp_path: Path
) -> None:
    suites = [
        report_settings.root / "expectations" / "ods" / f"{table}.yml"
        for table in ("rejected_messages", "topic_accounting")
    ]
    quality = run_quality(replace(report_settings, home=tmp_path), suites, build_docs=False)
    page = write_report(
        report_settings, tmp_path / "report.html", report_day, quality=quality
    ).read_text()
    assert card_value(page, "quality") == ("passed" if quality.success else "failed")
    section = split_sections(page)["data-quality"]
    for result in quality.results:
        assert table_row(section, result.suite)[1] == str(len(result.passed))


def test_a_day_without_data_renders_no_data_notes(
    report_settings: Settings, tmp_path: Path
) -> None:
    quiet_day = date(2023, 1, 2)
    page = write_report(report_settings, tmp_path / "quiet.html", quiet_day).read_text()
    sections = split_sections(page)
    assert list(sections) == list(SECTION_TITLES)
    assert 'class="error"' not in page
    assert card_value(page, "day") == quiet_day.isoformat()
    for key in ("av-quality", "engagement", "registrations", "consultants"):
        assert "no data for" in sections[key], key
        assert not image_payloads(sections[key]), key
    # what is not bound to the day still shows
    assert image_payloads(sections["freshness"])


def test_empty_warehouse_renders_no_data_notes(empty_warehouse: Settings, tmp_path: Path) -> None:
    page = write_report(empty_warehouse, tmp_path / "empty.html").read_text()
    sections = split_sections(page)
    assert list(sections) == list(SECTION_TITLES)
    assert 'class="error"' not in page
    assert not image_payloads(page)
    for key, body in sections.items():
        assert "no data for" in body or "not run" in body, key
    assert card_value(page, "messages_read") == "0"

    # layer databases without tables: the same
    client = get_client(empty_warehouse)
    create_layer_databases(client)
    page = write_report(empty_warehouse, tmp_path / "layers.html").read_text()
    assert 'class="error"' not in page
    assert all("no data for" in body for key, body in split_sections(page).items()), page

    # a mart that is not what the report expects: that section says so, the rest renders
    client.command(
        "CREATE TABLE ads.student_av_quality_curve_30s (start_time String) ENGINE = Memory"
    )
    page = write_report(empty_warehouse, tmp_path / "broken.html").read_text()
    sections = split_sections(page)
    assert list(sections) == list(SECTION_TITLES)
    assert 'class="error"' in sections["av-quality"]
    assert 'class="error"' not in sections["registrations"] + sections["freshness"]


def test_cli_writes_the_report(
    report_environment: Settings, report_client: Client, report_day: date, tmp_path: Path
) -> None:
    out = tmp_path / "cli" / "index.html"
    result = CliRunner().invoke(main, ["report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(str(out.resolve()))
    # without --day: the latest business day any offline contract mart has rows for
    latest = scalar(
        report_client,
        "SELECT greatest("
        "(SELECT max(toDate(start_time)) FROM ads.classroom_performance_1min), "
        "(SELECT max(toDate(start_time)) FROM ads.av_quality_30s), "
        "(SELECT max(toDate(create_time)) FROM ads.recorded_course_enter_time), "
        "(SELECT max(toDate(parseDateTime(toString(reg_hour), '%Y%m%d%H'))) "
        "   FROM ads.registrations_hourly_by_level), "
        "(SELECT max(attribution_date) FROM ads.cc_daily_tracking))",
    )
    assert latest >= report_day
    assert card_value(out.read_text(), "day") == latest.isoformat()
    bad = CliRunner().invoke(main, ["report", "--day", "2024-02-30"])
    assert bad.exit_code == 2 and "expected YYYY-MM-DD" in bad.output


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "–"),
        (5, "5 s"),
        (125, "2 min"),
        (3 * 3600 + 300, "3 h 05 min"),
        (6 * 3600, "6 h"),
        (2 * 86400, "2 d"),
        (2 * 86400 + 4 * 3600 + 59, "2 d 4 h"),
    ],
)
def test_ages_read_naturally(seconds: int | None, text: str) -> None:
    assert format_age(seconds) == text
