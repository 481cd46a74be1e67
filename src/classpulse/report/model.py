"""The report's page model (sections, tables, cards, charts) and its settings."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from classpulse import business_rules

DEFAULT_REPORT_PATH = Path("report") / "index.html"
"""Where the report goes, relative to ``CLASSPULSE_HOME``."""

REPORT_DATABASES = ("ods", "rt", "dim", "dwd", "dws", "ads")
"""Databases the report reads, in pipeline order (landing, real-time, preheat, dbt layers)."""
LANDING_DATABASES = ("ods", "rt")
"""Databases whose tables are landed (their ``landed_at`` says when data arrived)."""

CONTRACT_MARTS: Mapping[str, str] = {
    # mart -> the business day of a row (as in ads.rt_vs_offline_reconciliation)
    "classroom_performance_1min": "toDate(start_time)",
    "av_quality_30s": "toDate(start_time)",
    "recorded_course_enter_time": "toDate(create_time)",
    "registrations_hourly_by_level": (
        "makeDate(intDiv(reg_hour, 1000000), intDiv(reg_hour, 10000) % 100, "
        "intDiv(reg_hour, 100) % 100)"
    ),
    "cc_daily_tracking": "attribution_date",
}

SECTION_TITLES: Mapping[str, str] = {
    "headline": "1. Headline numbers",
    "av-quality": "2. AV quality",
    "engagement": "3. Classroom engagement",
    "registrations": "4. Registrations by hour and level",
    "consultants": "5. Consultant follow-ups",
    "data-quality": "6. Data quality & reconciliation",
    "freshness": "7. Freshness",
    "help-triage": "8. Live-classroom help triage",
}

TREND_DAYS = 14
"""Registrations and consultant follow-ups show this many days up to the report's day."""
RECONCILIATION_DAYS = 7
"""The reconciliation table lists this many days up to the report's day."""
WORST_ROOMS = 10
TOP_TUTORS = 12
TOP_CONSULTANTS = 10
# The same thresholds as dws.room_daily: dbt vars bad_audio_lost, bad_video_fr.
BAD_AUDIO_LOST = business_rules.bad_audio_lost()
BAD_VIDEO_FR = business_rules.bad_video_fr()

Progress = Callable[[str], None]


class ReportError(RuntimeError):
    """The report cannot be made at all (warehouse unreachable); says what to do."""


@dataclass(frozen=True)
class Chart:
    """One rendered figure: PNG bytes and the title used as caption and alt text."""

    title: str
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass(frozen=True)
class TableView:
    """A small table as display strings; ``statuses`` colours rows (ok, warn, bad, muted)."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    statuses: tuple[str, ...] = ()
    numeric: tuple[bool, ...] = ()
    collapsed: bool = False  # rendered folded (<details>), for long reference tables


@dataclass(frozen=True)
class Card:
    """A headline number: label, display value, the raw value (for machines) and a detail."""

    key: str
    label: str
    value: str
    raw: float | int | str | None = None
    detail: str = ""
    status: str = ""


@dataclass(frozen=True)
class Section:
    """One section of the page: a lead sentence, figures, tables and notes."""

    key: str
    title: str
    lead: str = ""
    cards: tuple[Card, ...] = ()
    charts: tuple[Chart, ...] = ()
    tables: tuple[TableView, ...] = ()
    notes: tuple[str, ...] = ()
    error: str | None = None


@dataclass
class SectionParts:
    """What a section builder collects, in order, before it makes the :class:`Section`."""

    cards: list[Card] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[TableView] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def section(self, key: str, title: str, lead: str = "") -> Section:
        return Section(
            key,
            title,
            lead,
            tuple(self.cards),
            tuple(self.charts),
            tuple(self.tables),
            tuple(self.notes),
        )

    def numbered_section(self, key: str, lead: str = "") -> Section:
        """The section of one of the report's numbered parts (its title from SECTION_TITLES)."""
        return self.section(key, SECTION_TITLES[key], lead)


@dataclass(frozen=True)
class TableFreshness:
    """When one table was last written: landed (landing tables) or built (dbt tables)."""

    database: str
    table: str
    rows: int
    kind: str  # landed | built | empty
    last_written: str | None  # business time zone, YYYY-MM-DD HH:MM:SS
    age_seconds: int | None


@dataclass(frozen=True)
class Headline:
    """The numbers at the top of the page (``day``-bound where a mart has a day)."""

    day: date
    messages_read: int
    accepted: int
    rejected: int
    rejected_by_reason: dict[str, int]
    late_events: int
    mart_rows: dict[str, tuple[int | None, int | None]]  # mart -> (ads rows, rt rows) on day
    quality_status: str
    quality_detail: str
    quality_ok: bool | None
    latest_landed_at: str | None
    freshness_seconds: int | None


@dataclass(frozen=True)
class Report:
    """Everything on the page."""

    day: date
    generated_at: str
    server: str
    headline: Headline
    sections: tuple[Section, ...]
