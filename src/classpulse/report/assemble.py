"""Assembling the report: every section built safely, then the page written atomically."""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from classpulse.config import Settings
from classpulse.report import rooms
from classpulse.report.av_quality import build_av_quality_section
from classpulse.report.consultants import build_consultant_section
from classpulse.report.data import (
    MartReader,
    business_today,
    connect,
    find_latest_data_day,
)
from classpulse.report.data_quality import build_data_quality_section
from classpulse.report.engagement import build_engagement_section
from classpulse.report.freshness import build_freshness_section, collect_freshness
from classpulse.report.headline import build_headline_section, collect_headline, summarize_quality
from classpulse.report.help_triage import build_help_triage_section
from classpulse.report.model import (
    DEFAULT_REPORT_PATH,
    SECTION_TITLES,
    Headline,
    Progress,
    Report,
    Section,
)
from classpulse.report.page import render_html
from classpulse.report.registrations import build_registrations_section

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client

    from classpulse.quality import QualityReport

log = logging.getLogger(__name__)

T = TypeVar("T")


def attempt(step: str, collect: Callable[[], T], fallback: T) -> tuple[T, str | None]:
    """Run one step; on failure, the fallback and the error to show (the report goes on)."""
    try:
        return collect(), None
    except Exception as exc:  # one broken table must not take the whole page down
        error = f"{type(exc).__name__}: {exc}"[:2000]
        log.warning("report: %s failed (shown in the page): %s", step, error.splitlines()[0])
        return fallback, error


def build_section_safely(
    key: str, build: Callable[[], Section], earlier_error: str | None = None
) -> Section:
    """Run one section's builder; a failure becomes a visible error in that section only."""
    section, error = attempt(key, build, Section(key=key, title=SECTION_TITLES[key]))
    error = "; ".join(message for message in (earlier_error, error) if message)
    return dataclasses.replace(section, error=error) if error else section


def make_empty_headline(day: date, quality: QualityReport | None) -> Headline:
    status, detail, passed = summarize_quality(quality)
    return Headline(
        day=day,
        messages_read=0,
        accepted=0,
        rejected=0,
        rejected_by_reason={},
        late_events=0,
        mart_rows={},
        quality_status=status,
        quality_detail=detail,
        quality_ok=passed,
        latest_landed_at=None,
        freshness_seconds=None,
    )


def build_help_triage(reader: MartReader, day: date) -> Section:
    return build_help_triage_section(reader, day, SECTION_TITLES["help-triage"])


def collect_report(
    settings: Settings,
    day: date | None = None,
    quality: QualityReport | None = None,
    on_progress: Progress | None = None,
    client: Client | None = None,
) -> Report:
    """Query the warehouse and render every section's figures."""
    say = on_progress or (lambda _message: None)
    say(f"connecting to ClickHouse at {settings.clickhouse_host}:{settings.clickhouse_port}")
    owned = client is None
    if client is None:
        client = connect(settings)
    try:
        reader = MartReader(client, settings.timezone)
        if day is None:
            latest, _ = attempt("day", lambda: find_latest_data_day(reader), None)
            day = latest or business_today(settings.timezone)
        server = f"ClickHouse {client.server_version} at {settings.clickhouse_host}:{settings.clickhouse_port}"
        generated_at = str(
            reader.scalar("SELECT toString(now(), {tz:String})", tz=settings.timezone)
        )
        say("reading freshness")
        freshness, freshness_error = attempt("freshness", lambda: collect_freshness(reader), [])
        say("headline numbers")
        headline, headline_error = attempt(
            "headline",
            lambda: collect_headline(reader, day, quality, freshness),
            make_empty_headline(day, quality),
        )
        errors = {"headline": headline_error, "freshness": freshness_error}
        builders: list[tuple[str, Callable[[], Section]]] = [
            ("headline", lambda: build_headline_section(headline)),
            ("av-quality", lambda: build_av_quality_section(reader, day)),
            ("engagement", lambda: build_engagement_section(reader, day)),
            ("registrations", lambda: build_registrations_section(reader, day)),
            ("consultants", lambda: build_consultant_section(reader, day)),
            ("data-quality", lambda: build_data_quality_section(reader, day, quality)),
            ("freshness", lambda: build_freshness_section(freshness)),
            ("help-triage", lambda: build_help_triage(reader, day)),
        ]
        sections = []
        for key, build in builders:
            say(f"rendering {SECTION_TITLES[key]}")
            sections.append(build_section_safely(key, build, errors.get(key)))
        # rooms (issue 12): shown when the warehouse holds room data, before data quality
        if attempt(rooms.SECTION_KEY, lambda: rooms.has_room_data(reader), False)[0]:
            say(f"rendering {rooms.SECTION_TITLE}")
            section, error = attempt(
                rooms.SECTION_KEY,
                lambda: rooms.build_rooms_section(reader, day),
                Section(key=rooms.SECTION_KEY, title=rooms.SECTION_TITLE),
            )
            section = dataclasses.replace(section, error=error) if error else section
            at = next(i for i, s in enumerate(sections) if s.key == "data-quality")
            sections.insert(at, section)
    finally:
        if owned:
            client.close()
    return Report(
        day=day,
        generated_at=generated_at,
        server=server,
        headline=headline,
        sections=tuple(sections),
    )


def write_report(
    settings: Settings,
    out: Path | None = None,
    day: date | None = None,
    quality: QualityReport | None = None,
    on_progress: Progress | None = None,
) -> Path:
    """Render the report for ``day`` (default: the latest day in the marts) to ``out``.

    ``out`` defaults to ``<CLASSPULSE_HOME>/report/index.html``; the file is replaced
    atomically. ``quality`` is a :class:`~classpulse.quality.QualityReport` to show (the
    page says "not run" without one). Returns the path written.
    """
    started = time.perf_counter()
    target = Path(out) if out is not None else settings.home / DEFAULT_REPORT_PATH
    report = collect_report(settings, day, quality, on_progress)
    if on_progress:
        on_progress("writing HTML")
    page = render_html(report, seconds=time.perf_counter() - started)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    scratch.write_text(page, encoding="utf-8")
    scratch.replace(target)
    return target
