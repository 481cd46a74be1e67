"""The daily report: one self-contained HTML page over the marts, for analysts.

``classpulse report`` (and the demo and Airflow, through :func:`write_report`) queries the
configured ClickHouse and writes a page an analyst would rather look at than read:

1. headline numbers: messages read, rejected by reason, late events, rows per mart (offline
   and real-time) on the day, the quality gate's verdict, freshness (now minus the latest
   ``landed_at`` of any landing table);
2. AV quality: students' audio loss and video frame rate per 30 s window across the day
   (``ads.av_quality_30s``) and the worst rooms (``ads.classroom_quality_daily``);
3. classroom engagement: student events by type per hour (``ads.classroom_performance_1min``)
   and by tutor and group kind (the preheat dimension ``dim.lesson_student_current``);
4. registrations by hour and level (``ads.registrations_hourly_by_level``);
5. consultant follow-ups (``ads.cc_daily_tracking``);
6. data quality and reconciliation: real-time vs offline per mart and day, rejected messages
   by topic and reason, late events, topic accounting, the Great Expectations verdict;
7. freshness per layer and table (landing times for landing tables, build times otherwise).

Each section is one ``build_*_section`` function returning a :class:`Section` (figures,
tables, notes). Every value reaches SQL as a server-side parameter (``{day:Date}``); only
identifiers taken from constants or the server's catalog are written into SQL text.
Figures are matplotlib ``Figure`` objects (no pyplot state) rendered to PNG and inlined as
base64 ``data:`` URIs; the CSS is inline; the page loads nothing from anywhere. A section
whose tables are missing or empty says "no data for …"; a section whose query fails shows
the error in its place and the rest of the report still renders.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import html
import io
import logging
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from classpulse.config import Settings

if TYPE_CHECKING:
    import pandas as pd
    from clickhouse_connect.driver.client import Client
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from classpulse.quality import QualityReport, SuiteResult

log = logging.getLogger(__name__)

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
# The same thresholds as dws.room_daily (dbt vars bad_audio_lost, bad_video_fr).
BAD_AUDIO_LOST = 20
BAD_VIDEO_FR = 10

LEVELS = ("A", "B", "C", "D", "other")
LEVEL_COLORS = {
    "A": "#4e79a7",
    "B": "#f28e2b",
    "C": "#76b7b2",
    "D": "#b07aa1",
    "other": "#bab0ac",
}
EVENT_COLORS = {
    "STUDENT_MOVE_PICTURE": "#4e79a7",
    "STUDENT_HOVER_PICTURE": "#a0cbe8",
    "STUDENT_LINE_DRAW": "#59a14f",
    "STUDENT_AUDIO_PLAY": "#f28e2b",
    "STUDENT_AUDIO_PAUSE": "#ffbe7d",
    "STUDENT_MATCH_CORRECT": "#76b7b2",
    "STUDENT_MATCH_WRONG": "#e15759",
}
REASON_COLORS = {
    "malformed_json": "#e15759",
    "missing_field": "#f28e2b",
    "wrong_type": "#edc948",
    "future_timestamp": "#b07aa1",
}
LAYER_COLORS = {
    "ods": "#4e79a7",
    "rt": "#e15759",
    "dim": "#b07aa1",
    "dwd": "#f28e2b",
    "dws": "#59a14f",
    "ads": "#76b7b2",
}
DURATION_TICKS_MINUTES = (1, 10, 60, 6 * 60, 24 * 60, 7 * 24 * 60, 30 * 24 * 60, 365 * 24 * 60)
FALLBACK_COLOR = "#9c9c9c"
INK = "#1f2933"
MUTED = "#6b7280"
GRID = "#e5e7eb"
FIGURE_DPI = 110
FIGURE_WIDTH = 11.0
CHART_STYLE = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelcolor": MUTED,
    "axes.edgecolor": "#9ca3af",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": GRID,
    "grid.linewidth": 0.8,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "text.color": INK,
}

Progress = Callable[[str], None]
P = ParamSpec("P")
T = TypeVar("T")


class ReportError(RuntimeError):
    """The report cannot be made at all (warehouse unreachable); says what to do."""


# --------------------------------------------------------------------------- the model


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


# --------------------------------------------------------------------------- warehouse access


class MartReader:
    """The report's queries on one client: server-side parameters and a catalog of tables."""

    def __init__(self, client: Client, timezone: str) -> None:
        self.client = client
        self.timezone = timezone
        result = client.query(
            "SELECT database, name, engine FROM system.tables "
            "WHERE database IN {databases:Array(String)}",
            parameters={"databases": list(REPORT_DATABASES)},
        )
        self.engines: dict[str, str] = {
            f"{database}.{name}": engine for database, name, engine in result.result_rows
        }

    def has(self, *tables: str) -> bool:
        """True when every ``database.table`` exists."""
        return all(table in self.engines for table in tables)

    def frame(self, sql: str, **parameters: Any) -> pd.DataFrame:
        """A query's result as a DataFrame that keeps its columns when it has no rows."""
        import pandas as pd

        result = self.client.query(sql, parameters=parameters)
        return pd.DataFrame(result.result_rows, columns=list(result.column_names))

    def rows(self, sql: str, **parameters: Any) -> list[tuple[Any, ...]]:
        return list(self.client.query(sql, parameters=parameters).result_rows)

    def scalar(self, sql: str, **parameters: Any) -> Any:
        rows = self.rows(sql, **parameters)
        return rows[0][0] if rows else None


def quote_identifier(name: str) -> str:
    """A ClickHouse identifier in backquotes (names from the server's own catalog)."""
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def find_latest_data_day(reader: MartReader) -> date | None:
    """The latest business day any offline contract mart has rows for."""
    days = []
    for mart, day_expression in CONTRACT_MARTS.items():
        if reader.has(f"ads.{mart}"):
            # identifiers and expressions are constants of this module
            value = reader.scalar(f"SELECT max({day_expression}) FROM ads.{mart}")
            if isinstance(value, date) and value > date(1970, 1, 1):
                days.append(value)
    return max(days) if days else None


def business_today(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


# --------------------------------------------------------------------------- formatting


def is_missing(value: object) -> bool:
    """None or NaN (what an empty aggregate or a Nullable column gives)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_count(value: float | None) -> str:
    """Thousands-separated integer, or an en dash for nothing."""
    return "–" if is_missing(value) else f"{round(value):,}"


def format_number(value: float | None, digits: int = 2) -> str:
    return "–" if is_missing(value) else f"{value:,.{digits}f}"


def format_share(value: float | None) -> str:
    return "–" if is_missing(value) else f"{value * 100:.1f} %"


def format_age(seconds: int | float | None) -> str:
    """A duration for people: 45 s, 12 min, 3 h 05 min, 6 h, 2 d 4 h."""
    if seconds is None:
        return "–"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def label_tutor(tutor_id: int) -> str:
    """Tutor 0 is the preheat's "no tutor" (students placed at lesson level)."""
    return "no tutor" if int(tutor_id) == 0 else f"tutor {tutor_id}"


def label_event(event: str) -> str:
    """STUDENT_MATCH_WRONG -> Match wrong."""
    return event.removeprefix("STUDENT_").replace("_", " ").capitalize()


def note_no_data(what: str, day: date | None = None) -> str:
    return f"no data for {what}" + (f" on {day.isoformat()}" if day else "")


# --------------------------------------------------------------------------- charts


def with_chart_style(function: Callable[P, Chart]) -> Callable[P, Chart]:
    """Draw and render a chart under the report's matplotlib style (a local rc context)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Chart:
        import matplotlib

        with matplotlib.rc_context(CHART_STYLE):
            return function(*args, **kwargs)

    return wrapper


def create_figure(height: float, width: float = FIGURE_WIDTH) -> Figure:
    """A matplotlib Figure (no pyplot state, so safe in threads and servers)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def render_chart(figure: Figure, title: str) -> Chart:
    """Render a figure to PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI, metadata={"Software": None})
    return Chart(title=title, png=buffer.getvalue())


def set_hour_axis(axes: Axes, first_hour: float, last_hour: float) -> None:
    """Hours of the business day on the x axis, labelled HH:00."""
    start = max(0, int(first_hour))
    end = min(24, int(last_hour) + 1)
    step = 1 if end - start <= 14 else 2
    ticks = list(range(start, end + 1, step))
    axes.set_xticks(ticks, [f"{tick:02d}:00" for tick in ticks])
    axes.set_xlim(start, end)


def stack_bars(
    axes: Axes,
    positions: Sequence[float],
    series: Mapping[str, Sequence[float]],
    colors: Mapping[str, str],
    labels: Mapping[str, str] | None = None,
    width: float = 0.8,
    horizontal: bool = False,
) -> None:
    """Stacked bars, one stack per position, one colour per series key."""
    import numpy as np

    bottom = np.zeros(len(positions))
    for key, values in series.items():
        heights = np.asarray(values, dtype=float)
        label = (labels or {}).get(key, key)
        color = colors.get(key, FALLBACK_COLOR)
        if horizontal:
            axes.barh(positions, heights, left=bottom, height=width, label=label, color=color)
        else:
            axes.bar(positions, heights, bottom=bottom, width=width, label=label, color=color)
        bottom += heights


def set_day_ticks(axes: Axes, days: Sequence[date]) -> None:
    """Every other day labelled MM-DD, counting back from the last (the report's day)."""
    positions = list(range(len(days)))[::-2][::-1]
    axes.set_xticks(positions, [days[position].strftime("%m-%d") for position in positions])


def annotate_bars(axes: Axes, positions: Sequence[float], totals: Sequence[float]) -> None:
    """The total at the end of each horizontal bar."""
    limit = max(totals) if len(totals) else 0
    for position, total in zip(positions, totals, strict=True):
        axes.text(
            total + limit * 0.01,
            position,
            format_count(total),
            va="center",
            fontsize=8,
            color=MUTED,
        )
    if limit:
        axes.set_xlim(0, limit * 1.12)


# --------------------------------------------------------------------------- 1. headline


def collect_freshness(reader: MartReader) -> list[TableFreshness]:
    """Last write of every table the report reads: max(landed_at) or the newest part."""
    tables = [
        name
        for name, engine in reader.engines.items()
        if "View" not in engine and engine not in {"Kafka", "Dictionary"}
    ]
    if not tables:
        return []
    parts = {
        f"{database}.{table}": (rows, written, age)
        for database, table, rows, written, age in reader.rows(
            "SELECT database, table, sum(rows), "
            "formatDateTime(max(modification_time), '%Y-%m-%d %H:%i:%S', {tz:String}), "
            "dateDiff('second', max(modification_time), now()) "
            "FROM system.parts WHERE active AND database IN {databases:Array(String)} "
            "GROUP BY database, table",
            tz=reader.timezone,
            databases=list(REPORT_DATABASES),
        )
    }
    landing = {
        f"{database}.{table}"
        for database, table in reader.rows(
            "SELECT database, table FROM system.columns "
            "WHERE database IN {databases:Array(String)} AND name = 'landed_at'",
            databases=list(LANDING_DATABASES),
        )
    }
    landed: dict[str, tuple[str, int]] = {}
    landing_with_rows = sorted(name for name in landing if name in tables and name in parts)
    if landing_with_rows:
        # Identifiers from system.columns; one scan of one column per landing table.
        union = " UNION ALL ".join(
            f"SELECT {index} AS position, max(landed_at) AS landed FROM "
            + ".".join(quote_identifier(piece) for piece in name.split(".", 1))
            for index, name in enumerate(landing_with_rows)
        )
        for position, written, age in reader.rows(
            "SELECT position, formatDateTime(landed, '%Y-%m-%d %H:%i:%S', {tz:String}), "
            "dateDiff('second', landed, now()) "
            f"FROM ({union}) WHERE landed > toDateTime64(0, 3)",
            tz=reader.timezone,
        ):
            landed[landing_with_rows[position]] = (written, int(age))
    result = []
    for name in tables:
        database, table = name.split(".", 1)
        rows, written, age = parts.get(name, (0, None, None))
        if name in landed:
            kind, (written, age) = "landed", landed[name]
        elif rows:
            kind = "built"
        else:
            kind, written, age = "empty", None, None
        result.append(
            TableFreshness(database, table, int(rows or 0), kind, written, to_int_or_none(age))
        )
    order = {database: index for index, database in enumerate(REPORT_DATABASES)}
    result.sort(key=lambda item: (order.get(item.database, 99), item.table))
    return result


def to_int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def summarize_quality(quality: QualityReport | None) -> tuple[str, str, bool | None]:
    """The gate's verdict in a word, a detail, and whether it passed (None: not run)."""
    if quality is None:
        return "not run", "Great Expectations suites", None
    total = len(quality.results)
    if quality.success:
        return "passed", f"all {total} Great Expectations suites", True
    return "failed", f"{len(quality.failed)} of {total} Great Expectations suites", False


def collect_headline(
    reader: MartReader,
    day: date,
    quality: QualityReport | None,
    freshness: Sequence[TableFreshness],
) -> Headline:
    """Messages read, rejected by reason, late events, rows per mart on ``day``, freshness."""
    messages_read = accepted = rejected = 0
    if reader.has("ods.topic_accounting"):
        row = reader.rows(
            "SELECT sum(messages_read), sum(accepted), sum(rejected) FROM ods.topic_accounting"
        )[0]
        messages_read, accepted, rejected = (int(value or 0) for value in row)
    by_reason: dict[str, int] = {}
    if reader.has("ods.rejected_messages"):
        by_reason = {
            str(reason): int(count)
            for reason, count in reader.rows(
                "SELECT reason, count() FROM ods.rejected_messages GROUP BY reason "
                "ORDER BY count() DESC, reason"
            )
        }
    late = 0
    if reader.has("ods.late_events"):
        late = int(reader.scalar("SELECT count() FROM ods.late_events") or 0)
    mart_rows: dict[str, tuple[int | None, int | None]] = {}
    for mart, day_expression in CONTRACT_MARTS.items():
        counts = []
        for database in ("ads", "rt"):
            if reader.has(f"{database}.{mart}"):
                sql = (
                    f"SELECT count() FROM {database}.{mart} "  # constant identifiers
                    f"WHERE {day_expression} = {{day:Date}}"
                )
                counts.append(int(reader.scalar(sql, day=day) or 0))
            else:
                counts.append(None)
        mart_rows[mart] = (counts[0], counts[1])
    status, detail, passed = summarize_quality(quality)
    landed = [item for item in freshness if item.kind == "landed" and item.age_seconds is not None]
    newest = min(landed, key=lambda item: item.age_seconds or 0) if landed else None
    return Headline(
        day=day,
        messages_read=messages_read,
        accepted=accepted,
        rejected=rejected,
        rejected_by_reason=by_reason,
        late_events=late,
        mart_rows=mart_rows,
        quality_status=status,
        quality_detail=detail,
        quality_ok=passed,
        latest_landed_at=newest.last_written if newest else None,
        freshness_seconds=newest.age_seconds if newest else None,
    )


def build_headline_section(headline: Headline) -> Section:
    """Cards with the headline numbers and a chart of rows per mart, offline vs real-time."""
    reasons = ", ".join(
        f"{reason} {count:,}" for reason, count in headline.rejected_by_reason.items()
    )
    cards = [
        Card("day", "Business day", headline.day.isoformat(), headline.day.isoformat()),
        Card(
            "messages_read",
            "Messages read",
            format_count(headline.messages_read),
            headline.messages_read,
            f"{format_count(headline.accepted)} accepted, all topics, everything landed",
        ),
        Card(
            "rejected",
            "Rejected messages",
            format_count(headline.rejected),
            headline.rejected,
            reasons or "none",
            "warn" if headline.rejected else "ok",
        ),
        Card(
            "late_events",
            "Late events",
            format_count(headline.late_events),
            headline.late_events,
            "dropped by real-time windows, counted offline",
        ),
        Card(
            "quality",
            "Quality gate",
            headline.quality_status,
            headline.quality_status,
            headline.quality_detail,
            {True: "ok", False: "bad", None: "muted"}[headline.quality_ok],
        ),
        Card(
            "freshness",
            "Freshness",
            format_age(headline.freshness_seconds),
            headline.freshness_seconds,
            f"since the latest landing ({headline.latest_landed_at})"
            if headline.latest_landed_at
            else "nothing landed yet",
            rate_freshness(headline.freshness_seconds),
        ),
    ]
    table = TableView(
        caption=f"Rows per mart on {headline.day.isoformat()}",
        columns=("mart", "offline (ads)", "real-time (rt)"),
        rows=tuple(
            (mart, format_count(ads_rows), format_count(rt_rows))
            for mart, (ads_rows, rt_rows) in headline.mart_rows.items()
        ),
        numeric=(False, True, True),
    )
    charts: list[Chart] = []
    notes: list[str] = []
    if any(ads or rt for ads, rt in headline.mart_rows.values()):
        charts.append(plot_mart_rows(headline))
    else:
        notes.append(note_no_data("the contract marts (ads.*, rt.*)", headline.day))
    return Section(
        key="headline",
        title=SECTION_TITLES["headline"],
        lead=(
            "Message counts cover everything landed so far; mart rows are the day's. "
            "Freshness is the time since the newest row reached any landing table."
        ),
        cards=tuple(cards),
        charts=tuple(charts),
        tables=(table,),
        notes=tuple(notes),
    )


def rate_freshness(seconds: int | None) -> str:
    if seconds is None:
        return "muted"
    if seconds <= 3600:
        return "ok"
    return "warn" if seconds <= 24 * 3600 else "bad"


@with_chart_style
def plot_mart_rows(headline: Headline) -> Chart:
    import numpy as np

    marts = list(headline.mart_rows)
    offline = [headline.mart_rows[mart][0] or 0 for mart in marts]
    realtime = [headline.mart_rows[mart][1] or 0 for mart in marts]
    figure = create_figure(2.6)
    axes = figure.add_subplot()
    positions = np.arange(len(marts))
    axes.barh(positions - 0.2, offline, height=0.4, color="#4e79a7", label="offline (ads)")
    axes.barh(positions + 0.2, realtime, height=0.4, color="#f28e2b", label="real-time (rt)")
    axes.set_yticks(positions, marts)
    axes.invert_yaxis()
    axes.grid(axis="y", visible=False)
    limit = max(offline + realtime) or 1
    for position, value in zip(positions, offline, strict=True):
        axes.text(
            value + limit * 0.01, position - 0.2, format_count(value), va="center", fontsize=7
        )
    for position, value in zip(positions, realtime, strict=True):
        axes.text(
            value + limit * 0.01, position + 0.2, format_count(value), va="center", fontsize=7
        )
    axes.set_xlim(0, limit * 1.12)
    axes.set_xlabel("rows on the day")
    axes.set_title(f"Rows per mart on {headline.day.isoformat()}: offline vs real-time")
    axes.legend(loc="lower right")
    return render_chart(figure, "Rows per mart, offline vs real-time")


# --------------------------------------------------------------------------- 2. AV quality


def build_av_quality_section(reader: MartReader, day: date) -> Section:
    """Student audio loss and video frame rate per 30 s window; the worst rooms of the day."""
    import pandas as pd

    charts: list[Chart] = []
    tables: list[TableView] = []
    notes: list[str] = []
    windows = pd.DataFrame()
    if reader.has("ads.av_quality_30s"):
        windows = reader.frame(
            "SELECT dateDiff('second', toStartOfDay(start_time), start_time) AS second_of_day, "
            "sumIf(event_sum, endsWith(event, '_AUDIO_STATE')) "
            "  / nullIf(sumIf(event_count, endsWith(event, '_AUDIO_STATE')), 0) AS audio_lost, "
            "sumIf(event_sum, endsWith(event, '_VIDEO_STATE')) "
            "  / nullIf(sumIf(event_count, endsWith(event, '_VIDEO_STATE')), 0) AS video_fr, "
            "uniqExact(user_id) AS students "
            "FROM ads.av_quality_30s WHERE toDate(start_time) = {day:Date} "
            "GROUP BY second_of_day ORDER BY second_of_day",
            day=day,
        )
    if windows.empty:
        notes.append(note_no_data("ads.av_quality_30s", day))
    else:
        charts.append(plot_av_quality(windows, day))
    rooms = pd.DataFrame()
    if reader.has("ads.classroom_quality_daily"):
        rooms = reader.frame(
            "SELECT room_id, teacher_id, students, events_per_student, audio_lost_avg, "
            "video_fr_avg, bad_audio_share, bad_video_share, quality_band "
            "FROM ads.classroom_quality_daily WHERE event_date = {day:Date} "
            "ORDER BY greatest(bad_audio_share, bad_video_share) DESC, audio_lost_avg DESC, "
            "room_id LIMIT {limit:UInt32}",
            day=day,
            limit=WORST_ROOMS,
        )
    if rooms.empty:
        notes.append(note_no_data("ads.classroom_quality_daily", day))
    else:
        band_status = {"poor": "bad", "fair": "warn", "good": "ok", "no_av_data": "muted"}
        tables.append(
            TableView(
                caption=f"Worst rooms on {day.isoformat()} (highest share of bad readings first)",
                columns=(
                    "room",
                    "teacher",
                    "students",
                    "events / student",
                    "audio lost avg",
                    "video fps avg",
                    f"bad audio (lost ≥ {BAD_AUDIO_LOST})",
                    f"bad video (fps < {BAD_VIDEO_FR})",
                    "band",
                ),
                rows=tuple(
                    (
                        str(row.room_id),
                        "–" if row.teacher_id in (-1, None) else str(row.teacher_id),
                        format_count(row.students),
                        format_number(row.events_per_student, 1),
                        format_number(row.audio_lost_avg),
                        format_number(row.video_fr_avg, 1),
                        format_share(row.bad_audio_share),
                        format_share(row.bad_video_share),
                        str(row.quality_band),
                    )
                    for row in rooms.itertuples()
                ),
                statuses=tuple(band_status.get(str(band), "") for band in rooms.quality_band),
                numeric=(False, False, True, True, True, True, True, True, False),
            )
        )
    return Section(
        key="av-quality",
        title=SECTION_TITLES["av-quality"],
        lead=(
            "Students' agora readings per 30-second window (business time): mean packets lost "
            "per audio reading and mean video frame rate, with a 5-minute rolling mean. Dashed "
            "lines are the thresholds a reading counts as bad."
        ),
        charts=tuple(charts),
        tables=tuple(tables),
        notes=tuple(notes),
    )


@with_chart_style
def plot_av_quality(windows: pd.DataFrame, day: date) -> Chart:
    """Three stacked panels over the day: students reporting, audio loss, video frame rate."""
    import numpy as np
    import pandas as pd

    first, last = int(windows.second_of_day.min()), int(windows.second_of_day.max())
    grid = pd.DataFrame({"second_of_day": np.arange(first, last + 30, 30)})
    # a full 30 s grid, so the lines break where no student reported
    series = grid.merge(windows, on="second_of_day", how="left")
    hours = series.second_of_day / 3600
    figure = create_figure(5.6)
    layout = figure.add_gridspec(3, 1, height_ratios=(1, 2, 2))
    students = figure.add_subplot(layout[0])
    audio = figure.add_subplot(layout[1], sharex=students)
    video = figure.add_subplot(layout[2], sharex=students)
    students.fill_between(hours, series.students.fillna(0), step="post", color="#cbd5e1")
    students.set_ylabel("students")
    students.set_title(f"Student audio/video quality per 30 s window, {day.isoformat()}")
    for axes, column, color, label, threshold, unit in (
        (audio, "audio_lost", "#e15759", "audio packets lost / reading", BAD_AUDIO_LOST, "lost"),
        (video, "video_fr", "#4e79a7", "video frames / s", BAD_VIDEO_FR, "fps"),
    ):
        values = series[column].astype(float)
        rolling = values.rolling(10, center=True, min_periods=3).mean()
        axes.plot(hours, values, color=color, alpha=0.35, linewidth=0.7, label="30 s window")
        axes.plot(hours, rolling, color=color, linewidth=1.6, label="5 min rolling mean")
        axes.axhline(threshold, color=MUTED, linestyle="--", linewidth=0.9)
        axes.annotate(
            f"bad: {unit} {'≥' if column == 'audio_lost' else '<'} {threshold}",
            xy=(1.0, threshold),
            xycoords=("axes fraction", "data"),
            xytext=(-4, 3),
            textcoords="offset points",
            ha="right",
            fontsize=7,
            color=MUTED,
        )
        axes.set_ylabel(label)
        axes.set_ylim(bottom=0)
        axes.legend(loc="upper left", ncols=2)
    audio.set_ylim(0, max(BAD_AUDIO_LOST * 1.25, float(np.nanmax(series.audio_lost.astype(float)))))
    video.set_ylim(
        0, max(BAD_VIDEO_FR * 1.5, float(np.nanmax(series.video_fr.astype(float))) * 1.15)
    )
    for axes in (students, audio):
        axes.tick_params(labelbottom=False)
    set_hour_axis(video, float(hours.min()), float(hours.max()))
    video.set_xlabel("business time")
    return render_chart(figure, "Student audio loss and video frame rate per 30 s window")


# --------------------------------------------------------------------------- 3. engagement


def build_engagement_section(reader: MartReader, day: date) -> Section:
    """Student events by type per hour, and by tutor and group kind (preheat dimension)."""
    charts: list[Chart] = []
    tables: list[TableView] = []
    notes: list[str] = []
    hourly = None
    if reader.has("ads.classroom_performance_1min"):
        hourly = reader.frame(
            "SELECT toHour(start_time) AS hour, event, sum(event_count) AS events "
            "FROM ads.classroom_performance_1min WHERE toDate(start_time) = {day:Date} "
            "GROUP BY hour, event ORDER BY hour, event",
            day=day,
        )
    if hourly is None or hourly.empty:
        notes.append(note_no_data("ads.classroom_performance_1min", day))
        return Section(
            key="engagement",
            title=SECTION_TITLES["engagement"],
            lead=describe_engagement(),
            notes=tuple(notes),
        )
    charts.append(plot_events_by_hour(hourly, day))
    totals = reader.frame(
        "SELECT event, sum(event_count) AS events, uniqExact(user_id) AS students, "
        "uniqExact(webserver_id) AS rooms "
        "FROM ads.classroom_performance_1min WHERE toDate(start_time) = {day:Date} "
        "GROUP BY event ORDER BY events DESC, event",
        day=day,
    )
    all_events = float(totals.events.sum())
    tables.append(
        TableView(
            caption=f"Student events by type on {day.isoformat()}",
            columns=("event", "events", "share", "students", "rooms"),
            rows=tuple(
                (
                    label_event(str(row.event)),
                    format_count(row.events),
                    format_share(row.events / all_events if all_events else None),
                    format_count(row.students),
                    format_count(row.rooms),
                )
                for row in totals.itertuples()
            ),
            numeric=(False, True, True, True, True),
        )
    )
    tutor_chart, tutor_tables, tutor_notes = summarize_tutors(reader, day)
    charts.extend(tutor_chart)
    tables.extend(tutor_tables)
    notes.extend(tutor_notes)
    return Section(
        key="engagement",
        title=SECTION_TITLES["engagement"],
        lead=describe_engagement(),
        charts=tuple(charts),
        tables=tuple(tables),
        notes=tuple(notes),
    )


def describe_engagement() -> str:
    return (
        "Classified student courseware events (offline mart, late events included) per hour "
        "of the business day, and per tutor and group kind from the day's published preheat. "
        "A student booked into several lessons that day has their events split evenly "
        "across those lessons."
    )


@with_chart_style
def plot_events_by_hour(hourly: pd.DataFrame, day: date) -> Chart:
    table = hourly.pivot_table(
        index="hour", columns="event", values="events", aggfunc="sum", fill_value=0
    )
    first, last = int(table.index.min()), int(table.index.max())
    table = table.reindex(range(first, last + 1), fill_value=0)
    order = [event for event in EVENT_COLORS if event in table.columns]
    order += sorted(set(table.columns) - set(order))
    figure = create_figure(3.4)
    axes = figure.add_subplot()
    positions = [hour + 0.5 for hour in table.index]
    stack_bars(
        axes,
        positions,
        {event: table[event].tolist() for event in order},
        EVENT_COLORS,
        labels={event: label_event(event) for event in order},
        width=0.85,
    )
    set_hour_axis(axes, first, last)
    axes.grid(axis="x", visible=False)
    axes.set_ylabel("student events")
    axes.set_title(f"Student events per hour by type, {day.isoformat()}")
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return render_chart(figure, "Student events per hour by event type")


def summarize_tutors(
    reader: MartReader, day: date
) -> tuple[list[Chart], list[TableView], list[str]]:
    """Engagement per tutor and per group kind: the day's events joined to the preheat."""
    if not reader.has("dim.lesson_student_current"):
        return [], [], ["no preheat dimensions (dim.lesson_student_current): run the preheat"]
    booked = reader.scalar(
        "SELECT count() FROM dim.lesson_student_current WHERE lesson_date = {day:Date}", day=day
    )
    if not booked:
        return [], [], [note_no_data("dim.lesson_student_current (published preheat)", day)]
    members_sql = (
        "WITH members AS ("
        "  SELECT student_id, tutor_id, tutoring_source, group_kind, group_node_id, "
        "    count() OVER (PARTITION BY student_id) AS lessons "
        "  FROM dim.lesson_student_current WHERE lesson_date = {day:Date}"
        "), events AS ("
        "  SELECT user_id AS student_id, sum(event_count) AS events "
        "  FROM ads.classroom_performance_1min WHERE toDate(start_time) = {day:Date} "
        "  GROUP BY student_id"
        "), joined AS ("
        "  SELECT m.*, e.events / m.lessons AS share, e.events > 0 AS engaged "
        "  FROM members AS m LEFT JOIN events AS e ON e.student_id = m.student_id"
        ") "
    )
    tutors = reader.frame(
        members_sql + "SELECT tutor_id, "
        "arrayStringConcat(arraySort(groupUniqArray(group_kind)), ', ') AS group_kinds, "
        "arrayStringConcat(arraySort(groupUniqArrayIf(tutoring_source, tutoring_source != '')),"
        " ', ') AS sources, "
        "uniqExact(student_id) AS students, uniqExactIf(student_id, engaged) AS engaged, "
        "sum(share) AS events "
        "FROM joined GROUP BY tutor_id ORDER BY events DESC, tutor_id",
        day=day,
    )
    kinds = reader.frame(
        members_sql + "SELECT group_kind, uniqExact(tutor_id) AS tutors, "
        "uniqExact(group_node_id) AS groups, uniqExact(student_id) AS students, "
        "uniqExactIf(student_id, engaged) AS engaged, sum(share) AS events "
        "FROM joined GROUP BY group_kind ORDER BY events DESC, group_kind",
        day=day,
    )
    unplaced = reader.rows(
        "SELECT sum(event_count), uniqExact(user_id) FROM ads.classroom_performance_1min "
        "WHERE toDate(start_time) = {day:Date} AND user_id NOT IN ("
        "  SELECT student_id FROM dim.lesson_student_current WHERE lesson_date = {day:Date})",
        day=day,
    )[0]
    notes = []
    if unplaced[0]:
        notes.append(
            f"{format_count(unplaced[0])} events of {format_count(unplaced[1])} students in no "
            "preheated lesson that day are not attributed to a tutor."
        )
    if float(tutors.events.sum()) == 0:
        notes.append(f"none of the day's preheated students produced events on {day.isoformat()}")
    chart = plot_tutors(tutors.head(TOP_TUTORS), kinds, day)
    tutor_table = TableView(
        caption=f"Tutors by student events on {day.isoformat()} (top {TOP_TUTORS})",
        columns=("tutor", "group kinds", "tutoring", "booked", "engaged", "events", "per engaged"),
        rows=tuple(
            (
                label_tutor(row.tutor_id),
                row.group_kinds,
                row.sources or "–",
                format_count(row.students),
                format_count(row.engaged),
                format_count(row.events),
                format_number(row.events / row.engaged if row.engaged else None, 1),
            )
            for row in tutors.head(TOP_TUTORS).itertuples()
        ),
        numeric=(False, False, False, True, True, True, True),
    )
    kind_table = TableView(
        caption=f"Group kinds on {day.isoformat()}",
        columns=("group kind", "tutors", "groups", "booked", "engaged", "events", "per engaged"),
        rows=tuple(
            (
                str(row.group_kind),
                format_count(row.tutors),
                format_count(row.groups),
                format_count(row.students),
                format_count(row.engaged),
                format_count(row.events),
                format_number(row.events / row.engaged if row.engaged else None, 1),
            )
            for row in kinds.itertuples()
        ),
        numeric=(False, True, True, True, True, True, True),
    )
    return [chart], [tutor_table, kind_table], notes


@with_chart_style
def plot_tutors(tutors: pd.DataFrame, kinds: pd.DataFrame, day: date) -> Chart:
    import numpy as np

    figure = create_figure(max(2.8, 0.28 * len(tutors) + 1.0))
    layout = figure.add_gridspec(1, 2, width_ratios=(3, 2))
    left = figure.add_subplot(layout[0])
    right = figure.add_subplot(layout[1])
    positions = np.arange(len(tutors))
    left.barh(positions, tutors.events.astype(float), color="#4e79a7")
    left.set_yticks(positions, [label_tutor(tutor) for tutor in tutors.tutor_id])
    left.invert_yaxis()
    left.grid(axis="y", visible=False)
    annotate_bars(left, positions, tutors.events.astype(float).tolist())
    left.set_xlabel("student events")
    left.set_title(f"Top tutors by their students' events, {day.isoformat()}")
    kinds = kinds.assign(
        per_student=[row.events / row.engaged if row.engaged else 0.0 for row in kinds.itertuples()]
    ).sort_values("per_student", ascending=False, kind="stable")
    per_student = kinds.per_student.tolist()
    kind_positions = np.arange(len(kinds))
    right.barh(kind_positions, per_student, color="#59a14f")
    right.set_yticks(kind_positions, [str(kind) for kind in kinds.group_kind])
    right.invert_yaxis()
    right.grid(axis="y", visible=False)
    limit = max(per_student) if per_student else 0
    for position, value, engaged in zip(kind_positions, per_student, kinds.engaged, strict=True):
        right.text(
            value + limit * 0.01,
            position,
            f"{value:,.0f} ({format_count(engaged)} students)",
            va="center",
            fontsize=7,
            color=MUTED,
        )
    if limit:
        right.set_xlim(0, limit * 1.45)
    right.set_xlabel("events per engaged student")
    right.set_title("By group kind")
    return render_chart(figure, "Student events by tutor and by group kind")


# --------------------------------------------------------------------------- 4. registrations


def build_registrations_section(reader: MartReader, day: date) -> Section:
    """Registrations per hour of the day and per day of the last weeks, stacked by level."""
    import pandas as pd

    first_day = day - timedelta(days=TREND_DAYS - 1)
    frame = pd.DataFrame()
    if reader.has("ads.registrations_hourly_by_level"):
        frame = reader.frame(
            "SELECT makeDate(intDiv(reg_hour, 1000000), intDiv(reg_hour, 10000) % 100, "
            "  intDiv(reg_hour, 100) % 100) AS reg_date, reg_hour % 100 AS hour, level, "
            "  sum(leads) AS leads "
            "FROM ads.registrations_hourly_by_level "
            "WHERE intDiv(reg_hour, 100) BETWEEN {first_key:UInt32} AND {day_key:UInt32} "
            "GROUP BY reg_date, hour, level ORDER BY reg_date, hour, level",
            first_key=int(first_day.strftime("%Y%m%d")),
            day_key=int(day.strftime("%Y%m%d")),
        )
    lead = (
        "Distinct counted registrations (NORMAL users, test accounts excluded) by hour of "
        f"registration and channel level; the right panel shows the {TREND_DAYS} days up to "
        "the report's day."
    )
    if frame.empty:
        return Section(
            key="registrations",
            title=SECTION_TITLES["registrations"],
            lead=lead,
            notes=(note_no_data("ads.registrations_hourly_by_level", day),),
        )
    on_day = frame[frame.reg_date == day]
    notes = [] if not on_day.empty else [note_no_data("registrations", day)]
    chart = plot_registrations(frame, on_day, day, first_day)
    day_totals = on_day.groupby("level").leads.sum()
    trend_totals = frame.groupby("level").leads.sum()
    day_sum = float(day_totals.sum())
    levels = [level for level in LEVELS if level in set(frame.level)]
    levels += sorted(set(frame.level) - set(levels))
    rows = [
        (
            level,
            format_count(day_totals.get(level, 0)),
            format_share(day_totals.get(level, 0) / day_sum if day_sum else None),
            format_count(trend_totals.get(level, 0)),
        )
        for level in levels
    ]
    rows.append(("all", format_count(day_sum), "", format_count(trend_totals.sum())))
    table = TableView(
        caption=f"Registrations by level on {day.isoformat()} and over {TREND_DAYS} days",
        columns=("level", "on the day", "share", f"last {TREND_DAYS} days"),
        rows=tuple(rows),
        numeric=(False, True, True, True),
    )
    return Section(
        key="registrations",
        title=SECTION_TITLES["registrations"],
        lead=lead,
        charts=(chart,),
        tables=(table,),
        notes=tuple(notes),
    )


@with_chart_style
def plot_registrations(
    frame: pd.DataFrame, on_day: pd.DataFrame, day: date, first_day: date
) -> Chart:
    import pandas as pd

    levels = [level for level in LEVELS if level in set(frame.level)]
    levels += sorted(set(frame.level) - set(levels))
    figure = create_figure(3.4)
    layout = figure.add_gridspec(1, 2, width_ratios=(3, 2))
    hourly_axes = figure.add_subplot(layout[0])
    daily_axes = figure.add_subplot(layout[1])
    hourly = on_day.pivot_table(
        index="hour", columns="level", values="leads", aggfunc="sum", fill_value=0
    ).reindex(index=range(24), columns=levels, fill_value=0)
    stack_bars(
        hourly_axes,
        [hour + 0.5 for hour in range(24)],
        {level: hourly[level].tolist() for level in levels},
        LEVEL_COLORS,
        width=0.85,
    )
    set_hour_axis(hourly_axes, 0, 23)
    hourly_axes.grid(axis="x", visible=False)
    hourly_axes.set_ylabel("registrations")
    hourly_axes.set_title(f"Registrations per hour by level, {day.isoformat()}")
    hourly_axes.legend(title="level", loc="upper left", ncols=len(levels))
    hourly_axes.set_ylim(0, max(1.0, float(hourly.sum(axis=1).max())) * 1.25)
    days = pd.date_range(first_day, day, freq="D").date
    daily = frame.pivot_table(
        index="reg_date", columns="level", values="leads", aggfunc="sum", fill_value=0
    ).reindex(index=days, columns=levels, fill_value=0)
    positions = list(range(len(days)))
    stack_bars(
        daily_axes, positions, {level: daily[level].tolist() for level in levels}, LEVEL_COLORS
    )
    set_day_ticks(daily_axes, days)
    daily_axes.grid(axis="x", visible=False)
    daily_axes.set_title(f"Per day, last {TREND_DAYS} days")
    return render_chart(figure, "Registrations by hour and level")


# --------------------------------------------------------------------------- 5. consultants


def build_consultant_section(reader: MartReader, day: date) -> Section:
    """Confirmed follow-ups per consultant: the top consultants and the daily totals."""
    import pandas as pd

    first_day = day - timedelta(days=TREND_DAYS - 1)
    frame = pd.DataFrame()
    if reader.has("ads.cc_daily_tracking"):
        frame = reader.frame(
            "SELECT cc_id, attribution_date, sum(cc_index) AS follow_ups, "
            "max(update_time) AS last_update "
            "FROM ads.cc_daily_tracking "
            "WHERE attribution_date BETWEEN {first_day:Date} AND {day:Date} "
            "GROUP BY cc_id, attribution_date ORDER BY attribution_date, cc_id",
            first_day=first_day,
            day=day,
        )
    lead = (
        "Orders a course consultant confirmed (latest order version, status 3) per confirm "
        f"day, over the {TREND_DAYS} days up to the report's day."
    )
    if frame.empty:
        return Section(
            key="consultants",
            title=SECTION_TITLES["consultants"],
            lead=lead,
            notes=(
                note_no_data(
                    f"ads.cc_daily_tracking in the {TREND_DAYS} days up to {day.isoformat()}"
                ),
            ),
        )
    per_consultant = (
        frame.groupby("cc_id")
        .agg(
            follow_ups=("follow_ups", "sum"),
            active_days=("attribution_date", "nunique"),
            last_update=("last_update", "max"),
        )
        .sort_values(["follow_ups"], ascending=False, kind="stable")
    )
    on_day = frame[frame.attribution_date == day].groupby("cc_id").follow_ups.sum()
    top = per_consultant.head(TOP_CONSULTANTS)
    chart = plot_consultants(frame, top, day, first_day)
    table = TableView(
        caption=f"Top consultants over {TREND_DAYS} days (to {day.isoformat()})",
        columns=(
            "consultant",
            "on the day",
            f"last {TREND_DAYS} days",
            "active days",
            "last update",
        ),
        rows=tuple(
            (
                str(cc_id),
                format_count(on_day.get(cc_id, 0)),
                format_count(row.follow_ups),
                format_count(row.active_days),
                str(row.last_update),
            )
            for cc_id, row in top.iterrows()
        ),
        numeric=(False, True, True, True, False),
    )
    notes = [] if not on_day.empty else [note_no_data("consultant follow-ups", day)]
    return Section(
        key="consultants",
        title=SECTION_TITLES["consultants"],
        lead=lead,
        charts=(chart,),
        tables=(table,),
        notes=tuple(notes),
    )


@with_chart_style
def plot_consultants(frame: pd.DataFrame, top: pd.DataFrame, day: date, first_day: date) -> Chart:
    import numpy as np
    import pandas as pd

    palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2"]
    stacked = [cc_id for cc_id in top.index[: len(palette)]]
    colors = {str(cc_id): color for cc_id, color in zip(stacked, palette, strict=False)}
    colors["others"] = "#bab0ac"
    days = pd.date_range(first_day, day, freq="D").date
    daily = frame.assign(
        who=frame.cc_id.map(lambda cc_id: str(cc_id) if cc_id in stacked else "others")
    ).pivot_table(index="attribution_date", columns="who", values="follow_ups", aggfunc="sum")
    daily = daily.reindex(index=days, fill_value=0).fillna(0)
    order = [key for key in colors if key in daily.columns]
    figure = create_figure(3.2)
    layout = figure.add_gridspec(1, 2, width_ratios=(3, 2))
    per_day = figure.add_subplot(layout[0])
    ranking = figure.add_subplot(layout[1])
    positions = list(range(len(days)))
    stack_bars(
        per_day,
        positions,
        {key: daily[key].tolist() for key in order},
        colors,
        labels={key: key if key == "others" else f"cc {key}" for key in order},
    )
    set_day_ticks(per_day, days)
    per_day.grid(axis="x", visible=False)
    per_day.set_ylabel("confirmed follow-ups")
    per_day.set_title(f"Confirmed follow-ups per day, last {TREND_DAYS} days")
    per_day.legend(loc="upper left", ncols=3)
    per_day.set_ylim(0, max(1.0, float(daily.sum(axis=1).max())) * 1.3)
    rank_positions = np.arange(len(top))
    ranking.barh(
        rank_positions,
        top.follow_ups.astype(float),
        color=[colors.get(str(cc_id), "#bab0ac") for cc_id in top.index],
    )
    ranking.set_yticks(rank_positions, [f"cc {cc_id}" for cc_id in top.index])
    # at least six slots, so a handful of consultants do not get slab-thick bars
    ranking.set_ylim(max(len(top), 6) - 0.5, -0.5)
    ranking.grid(axis="y", visible=False)
    annotate_bars(ranking, rank_positions, top.follow_ups.astype(float).tolist())
    ranking.set_title(f"Top consultants, {TREND_DAYS} days")
    return render_chart(figure, "Consultant follow-ups per day and top consultants")


# --------------------------------------------------------------------------- 6. data quality


def build_data_quality_section(
    reader: MartReader, day: date, quality: QualityReport | None
) -> Section:
    """Reconciliation per mart and day, rejected messages, late events, accounting, GX."""
    import pandas as pd

    tables: list[TableView] = []
    notes: list[str] = []
    first_day = day - timedelta(days=RECONCILIATION_DAYS - 1)
    reconciliation = pd.DataFrame()
    if reader.has("ads.rt_vs_offline_reconciliation"):
        reconciliation = reader.frame(
            "SELECT mart, day, rt_rows, ads_rows, rt_total, ads_total, total_difference, "
            "late_events, explained_by_late, unexplained, rejected_source_messages, status "
            "FROM ads.rt_vs_offline_reconciliation "
            "WHERE day BETWEEN {first_day:Date} AND {day:Date} ORDER BY mart, day",
            first_day=first_day,
            day=day,
        )
        overall = reader.rows(
            "SELECT countIf(status != 'ok'), count() FROM ads.rt_vs_offline_reconciliation"
        )[0]
        if overall[1]:
            notes.append(
                f"Reconciliation over all days: {overall[0]:,} of {overall[1]:,} mart-days "
                "do not reconcile (offline total ≠ real-time total + what the late events "
                "explain)."
            )
    if reconciliation.empty:
        notes.append(
            note_no_data(
                f"ads.rt_vs_offline_reconciliation in the {RECONCILIATION_DAYS} days up to "
                f"{day.isoformat()}"
            )
        )
    else:
        tables.append(
            TableView(
                caption=(
                    f"Real-time vs offline, {first_day.isoformat()} to {day.isoformat()} "
                    "(unexplained = offline − real-time − what the late events explain)"
                ),
                columns=(
                    "mart",
                    "day",
                    "rt rows",
                    "ads rows",
                    "rt total",
                    "ads total",
                    "difference",
                    "late",
                    "explained by late",
                    "unexplained",
                    "rejected (source)",
                    "status",
                ),
                rows=tuple(
                    (
                        str(row.mart),
                        row.day.isoformat(),
                        *(
                            format_count(value)
                            for value in (
                                row.rt_rows,
                                row.ads_rows,
                                row.rt_total,
                                row.ads_total,
                                row.total_difference,
                                row.late_events,
                                row.explained_by_late,
                                row.unexplained,
                                row.rejected_source_messages,
                            )
                        ),
                        str(row.status),
                    )
                    for row in reconciliation.itertuples()
                ),
                statuses=tuple("ok" if s == "ok" else "bad" for s in reconciliation.status),
                numeric=(False, False, *([True] * 9), False),
            )
        )
    rejected = pd.DataFrame()
    if reader.has("ods.rejected_messages"):
        rejected = reader.frame(
            "SELECT topic, reason, count() AS messages FROM ods.rejected_messages "
            "GROUP BY topic, reason ORDER BY topic, reason"
        )
    if rejected.empty:
        notes.append(note_no_data("ods.rejected_messages (nothing rejected)"))
    else:
        tables.append(tabulate_rejections(rejected))
    late = pd.DataFrame()
    if reader.has("ods.late_events"):
        late = reader.frame(
            "SELECT mart, count() AS late_events, "
            "countIf(toDate(fromUnixTimestamp(intDiv(event_time_ms, 1000)), {tz:String}) "
            "  = {day:Date}) AS on_day, "
            "formatDateTime(max(fromUnixTimestamp64Milli(event_time_ms)), '%Y-%m-%d %H:%i:%S', "
            "  {tz:String}) AS latest "
            "FROM ods.late_events GROUP BY mart ORDER BY mart",
            tz=reader.timezone,
            day=day,
        )
    if late.empty:
        notes.append(note_no_data("ods.late_events (no real-time window dropped an event)"))
    else:
        tables.append(
            TableView(
                caption="Late events per mart (dropped by a real-time window, counted offline)",
                columns=("mart", "late events", f"on {day.isoformat()}", "latest event time"),
                rows=tuple(
                    (str(r.mart), format_count(r.late_events), format_count(r.on_day), r.latest)
                    for r in late.itertuples()
                ),
                numeric=(False, True, True, False),
            )
        )
    tables.extend(tabulate_accounting(reader, notes))
    tables.extend(tabulate_quality(quality, notes))
    charts = []
    on_day = reconciliation[reconciliation.day == day] if not reconciliation.empty else None
    if on_day is not None and not on_day.empty:
        charts.append(plot_reconciliation(on_day, day))
    if not rejected.empty:
        charts.append(plot_rejections(rejected))
    return Section(
        key="data-quality",
        title=SECTION_TITLES["data-quality"],
        lead=(
            "Nothing is lost silently: every rejected message lands with its reason, every "
            "event a real-time window dropped lands as late, and each real-time mart must "
            "equal its offline twin once late events are added back."
        ),
        charts=tuple(charts),
        tables=tuple(tables),
        notes=tuple(notes),
    )


def tabulate_rejections(rejected: pd.DataFrame) -> TableView:
    reasons = sorted(set(rejected.reason), key=lambda r: (r not in REASON_COLORS, r))
    wide = rejected.pivot_table(
        index="topic", columns="reason", values="messages", aggfunc="sum", fill_value=0
    ).reindex(columns=reasons, fill_value=0)
    wide = wide.assign(total=wide.sum(axis=1)).sort_values("total", ascending=False)
    return TableView(
        caption="Rejected messages by topic and reason (everything landed)",
        columns=("topic", *reasons, "total"),
        rows=tuple(
            (
                str(topic),
                *(format_count(row[reason]) for reason in reasons),
                format_count(row.total),
            )
            for topic, row in wide.iterrows()
        ),
        numeric=(False, *([True] * (len(reasons) + 1))),
    )


def tabulate_accounting(reader: MartReader, notes: list[str]) -> list[TableView]:
    """Topic accounting (read = accepted + rejected) and mart accounting (in = counted + late)."""
    tables = []
    if reader.has("ods.topic_accounting"):
        topics = reader.rows(
            "SELECT topic, messages_read, accepted, rejected FROM ods.topic_accounting "
            "ORDER BY topic"
        )
        if topics:
            tables.append(
                TableView(
                    caption="Topic accounting: messages read = accepted + rejected",
                    columns=("topic", "read", "accepted", "rejected", "holds"),
                    rows=tuple(
                        (
                            str(topic),
                            format_count(read),
                            format_count(accepted),
                            format_count(rejected),
                            "yes" if read == accepted + rejected else "NO",
                        )
                        for topic, read, accepted, rejected in topics
                    ),
                    statuses=tuple(
                        "ok" if read == accepted + rejected else "bad"
                        for _, read, accepted, rejected in topics
                    ),
                    numeric=(False, True, True, True, False),
                )
            )
        else:
            notes.append(note_no_data("ods.topic_accounting"))
    if reader.has("ods.mart_accounting"):
        marts = reader.rows(
            "SELECT mart, events_in, events_counted, events_late FROM ods.mart_accounting "
            "ORDER BY mart"
        )
        if marts:
            tables.append(
                TableView(
                    caption="Real-time mart accounting: events in = counted + late",
                    columns=("mart", "events in", "counted", "late", "holds"),
                    rows=tuple(
                        (
                            str(mart),
                            format_count(events_in),
                            format_count(counted),
                            format_count(late),
                            "yes" if events_in == counted + late else "NO",
                        )
                        for mart, events_in, counted, late in marts
                    ),
                    statuses=tuple(
                        "ok" if events_in == counted + late else "bad"
                        for _, events_in, counted, late in marts
                    ),
                    numeric=(False, True, True, True, False),
                )
            )
        else:
            notes.append(note_no_data("ods.mart_accounting (the real-time jobs reported nothing)"))
    return tables


def tabulate_quality(quality: QualityReport | None, notes: list[str]) -> list[TableView]:
    """The Great Expectations verdict, suite by suite (failures first)."""
    if quality is None:
        notes.append(
            "Great Expectations: not run for this report (`classpulse quality`, or "
            "`classpulse report --quality`)."
        )
        return []
    if not quality.results:
        notes.append("Great Expectations: no suites ran.")
        return []
    results = sorted(quality.results, key=lambda result: (result.success, result.suite))
    if quality.docs_index is not None:
        notes.append(f"Great Expectations Data Docs: {quality.docs_index}")
    verdict, detail, _ = summarize_quality(quality)
    failed = [result for result in results if not result.success]
    tables = []
    if failed:
        tables.append(
            TableView(
                caption=f"Great Expectations: failing suites ({detail})",
                columns=("suite", "passed", "failed", "failing expectations (observed)"),
                rows=tuple(format_quality_row(result) for result in failed),
                statuses=("bad",) * len(failed),
                numeric=(False, True, True, False),
            )
        )
    tables.append(
        TableView(
            collapsed=True,
            caption=(
                f"Great Expectations: all {len(results)} suites ({verdict}, "
                f"{quality.seconds:.1f} s)"
            ),
            columns=("suite", "passed", "failed", "failing expectations (observed)"),
            rows=tuple(format_quality_row(result) for result in results),
            statuses=tuple("ok" if result.success else "bad" for result in results),
            numeric=(False, True, True, False),
        )
    )
    return tables


def format_quality_row(result: SuiteResult) -> tuple[str, str, str, str]:
    return (
        result.suite,
        "–" if result.error else str(len(result.passed)),
        "–" if result.error else str(len(result.failed)),
        result.error
        or "; ".join(f"{outcome.name}: {outcome.observed}" for outcome in result.failed),
    )


@with_chart_style
def plot_rejections(rejected: pd.DataFrame) -> Chart:
    """Rejected messages per topic, stacked by reason."""
    import numpy as np

    reasons = sorted(set(rejected.reason), key=lambda r: (r not in REASON_COLORS, r))
    wide = rejected.pivot_table(
        index="topic", columns="reason", values="messages", aggfunc="sum", fill_value=0
    ).reindex(columns=reasons, fill_value=0)
    wide = wide.loc[wide.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    figure = create_figure(0.32 * len(wide) + 1.2)
    axes = figure.add_subplot()
    positions = np.arange(len(wide))
    stack_bars(
        axes,
        positions,
        {reason: wide[reason].tolist() for reason in reasons},
        REASON_COLORS,
        width=0.7,
        horizontal=True,
    )
    axes.set_yticks(positions, [str(topic) for topic in wide.index])
    axes.invert_yaxis()
    axes.grid(axis="y", visible=False)
    annotate_bars(axes, positions, wide.sum(axis=1).astype(float).tolist())
    axes.set_xlabel("rejected messages (everything landed)")
    axes.set_title("Rejected messages by topic and reason")
    axes.legend(loc="lower right")
    return render_chart(figure, "Rejected messages by topic and reason")


@with_chart_style
def plot_reconciliation(on_day: pd.DataFrame, day: date) -> Chart:
    """Per mart, the day's offline total split into counted in real time, late, unexplained."""
    import numpy as np

    offline = on_day.ads_total.astype(float)
    realtime = on_day.rt_total.astype(float)
    scale = offline.where(offline > 0, np.maximum(realtime, 1.0)) / 100
    parts = {
        "counted in real time": (np.minimum(realtime, offline.where(offline > 0, realtime))),
        "late (dropped in real time, counted offline)": on_day.explained_by_late.astype(float),
        "unexplained": on_day.unexplained.astype(float).abs(),
    }
    colors = {
        "counted in real time": "#59a14f",
        "late (dropped in real time, counted offline)": "#edc948",
        "unexplained": "#e15759",
    }
    shares = {
        key: (values / scale).fillna(0).clip(lower=0).tolist() for key, values in parts.items()
    }
    figure = create_figure(0.32 * len(on_day) + 1.5)
    axes = figure.add_subplot()
    positions = np.arange(len(on_day))
    stack_bars(axes, positions, shares, colors, width=0.6, horizontal=True)
    axes.set_yticks(positions, [str(mart) for mart in on_day.mart])
    axes.invert_yaxis()
    axes.grid(axis="y", visible=False)
    widest = max(sum(values) for values in zip(*shares.values(), strict=True))
    for position, row, total in zip(
        positions,
        on_day.itertuples(),
        (sum(values) for values in zip(*shares.values(), strict=True)),
        strict=True,
    ):
        words = [f"{format_count(row.late_events)} late"] if row.late_events else []
        if row.unexplained:
            words.append(f"{format_count(row.unexplained)} unexplained")
        axes.text(
            max(total, 100) + 1,
            position,
            ", ".join(words) or "equal",
            va="center",
            fontsize=7,
            color=MUTED,
        )
    axes.set_xlim(0, max(125.0, widest * 1.25))
    axes.set_xticks(range(0, int(max(100.0, widest)) + 1, 20))
    axes.axvline(100, color=MUTED, linewidth=0.8, linestyle="--")
    axes.set_xlabel("% of the offline total (ads)")
    axes.set_title(f"Real-time vs offline on {day.isoformat()}")
    figure.legend(loc="outside lower center", ncols=3)
    return render_chart(figure, "Reconciliation: real-time + late vs offline, per mart")


# --------------------------------------------------------------------------- 7. freshness


def build_freshness_section(freshness: Sequence[TableFreshness]) -> Section:
    """When each table was last landed or built, per layer."""
    lead = (
        "Landing tables (ods, rt logs) show the newest row's landed_at; dbt-built and "
        "preheat tables show when their data was last written. Views are not listed."
    )
    if not freshness:
        return Section(
            key="freshness",
            title=SECTION_TITLES["freshness"],
            lead=lead,
            notes=(note_no_data("any warehouse table (nothing landed or built yet)"),),
        )
    charts = []
    notes = []
    written = [item for item in freshness if item.age_seconds is not None]
    if written:
        charts.append(plot_freshness(written))
    else:
        notes.append(note_no_data("any table with rows (every table is empty)"))
    summary = TableView(
        caption="Freshness per layer",
        columns=("layer", "tables", "empty", "newest", "stalest table", "its age"),
        rows=tuple(summarize_layer(layer, items) for layer, items in group_by_layer(freshness)),
        statuses=tuple(
            rate_freshness(max((i.age_seconds or 0 for i in items), default=None))
            if any(i.age_seconds is not None for i in items)
            else "muted"
            for _, items in group_by_layer(freshness)
        ),
        numeric=(False, True, True, True, False, True),
    )
    table = TableView(
        collapsed=True,
        caption=f"Freshness per table ({len(freshness)} {'table' if len(freshness) == 1 else 'tables'})",
        columns=("layer", "table", "rows", "kind", "last written (business time)", "age"),
        rows=tuple(
            (
                item.database,
                item.table,
                format_count(item.rows),
                item.kind,
                item.last_written or "–",
                format_age(item.age_seconds),
            )
            for item in freshness
        ),
        statuses=tuple(
            "muted" if item.kind == "empty" else rate_freshness(item.age_seconds)
            for item in freshness
        ),
        numeric=(False, False, True, False, False, True),
    )
    return Section(
        key="freshness",
        title=SECTION_TITLES["freshness"],
        lead=lead,
        charts=tuple(charts),
        tables=(summary, table),
        notes=tuple(notes),
    )


def group_by_layer(
    freshness: Sequence[TableFreshness],
) -> list[tuple[str, list[TableFreshness]]]:
    """Tables per layer, layers in pipeline order."""
    return [
        (layer, [item for item in freshness if item.database == layer])
        for layer in REPORT_DATABASES
        if any(item.database == layer for item in freshness)
    ]


def summarize_layer(layer: str, items: Sequence[TableFreshness]) -> tuple[str, ...]:
    written = [item for item in items if item.age_seconds is not None]
    newest = min(written, key=lambda item: item.age_seconds or 0) if written else None
    stalest = max(written, key=lambda item: item.age_seconds or 0) if written else None
    return (
        layer,
        str(len(items)),
        str(len(items) - len(written)),
        format_age(newest.age_seconds) if newest else "–",
        stalest.table if stalest else "–",
        format_age(stalest.age_seconds) if stalest else "–",
    )


@with_chart_style
def plot_freshness(written: Sequence[TableFreshness]) -> Chart:
    """One row per layer, one dot per table at its age; the stalest table is named."""
    import numpy as np

    layers = [layer for layer in REPORT_DATABASES if any(i.database == layer for i in written)]
    ages_minutes = [max(item.age_seconds or 0, 1) / 60 for item in written]
    figure = create_figure(0.42 * len(layers) + 1.2)
    axes = figure.add_subplot()
    rng = np.random.default_rng(0)
    for row, layer in enumerate(layers):
        items = [item for item in written if item.database == layer]
        ages = np.array([max(item.age_seconds or 0, 1) / 60 for item in items])
        jitter = rng.uniform(-0.12, 0.12, len(items))
        axes.scatter(
            ages, row + jitter, s=28, color=LAYER_COLORS.get(layer, FALLBACK_COLOR), alpha=0.85
        )
        stalest = items[int(ages.argmax())]
        axes.annotate(
            f"{stalest.table} ({format_age(stalest.age_seconds)})",
            xy=(float(ages.max()), row),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
            color=MUTED,
        )
    axes.set_yticks(range(len(layers)), layers)
    axes.set_ylim(len(layers) - 0.5, -0.5)
    # room on the right for the stalest table's name
    if max(ages_minutes) / min(ages_minutes) > 30:
        axes.set_xscale("log")
        low, high = min(ages_minutes) / 2, max(ages_minutes) * 8
        axes.set_xlim(low, high)
        ticks = [minutes for minutes in DURATION_TICKS_MINUTES if low <= minutes <= high]
        axes.set_xticks(ticks, [format_age(minutes * 60) for minutes in ticks])
        axes.minorticks_off()
    else:
        from matplotlib.ticker import FuncFormatter

        axes.set_xlim(0, max(ages_minutes) * 1.6)
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: format_age(value * 60)))
    axes.set_xlabel("time since last written")
    axes.set_title("Freshness per layer (one dot per table)")
    axes.grid(axis="y", visible=False)
    return render_chart(figure, "Freshness per layer and table")


# --------------------------------------------------------------------------- assembling


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
    from classpulse.report_help_triage import build_help_triage_section

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
        from classpulse.rooms import report_section as rooms

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


def connect(settings: Settings) -> Client:
    from classpulse.warehouse import get_client

    try:
        return get_client(settings)
    except Exception as exc:
        raise ReportError(
            f"cannot reach ClickHouse at {settings.clickhouse_url}: {exc}\n"
            "  what to do: start the warehouse (`classpulse warehouse start`) or check "
            "CLASSPULSE_CLICKHOUSE_* (`classpulse doctor`)"
        ) from None


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


# --------------------------------------------------------------------------- HTML

STYLE = """
:root { --ink: #1f2933; --muted: #6b7280; --line: #e5e7eb; --bg: #f6f7f9; --card: #fff;
  --ok: #137333; --ok-bg: #e6f4ea; --warn: #b06000; --warn-bg: #fef7e0;
  --bad: #c5221f; --bad-bg: #fce8e6; --accent: #4e79a7; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  "Noto Sans", sans-serif; }
header.top { background: #1f2937; color: #f9fafb; padding: 20px 32px 14px; }
header.top h1 { margin: 0 0 4px; font-size: 22px; font-weight: 650; }
header.top .meta { color: #cbd5e1; font-size: 13px; }
nav { display: flex; flex-wrap: wrap; gap: 4px 18px; margin-top: 10px; font-size: 13px; }
nav a { color: #bfdbfe; text-decoration: none; }
nav a:hover { text-decoration: underline; }
main { max-width: 1240px; margin: 0 auto; padding: 8px 24px 48px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 18px 22px 20px; margin: 18px 0; }
section h2 { margin: 0 0 4px; font-size: 18px; }
p.lead { margin: 0 0 12px; color: var(--muted); max-width: 920px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(175px, 1fr));
  gap: 10px; margin: 6px 0 14px; }
.card { border: 1px solid var(--line); border-left: 4px solid var(--accent);
  border-radius: 8px; padding: 8px 12px; background: #fbfcfd; }
.card .label { font-size: 12px; color: var(--muted); text-transform: none; }
.card .value { font-size: 21px; font-weight: 650; font-variant-numeric: tabular-nums;
  overflow-wrap: anywhere; }
.card .detail { font-size: 11.5px; color: var(--muted); }
.card.ok { border-left-color: var(--ok); } .card.warn { border-left-color: #e8a317; }
.card.bad { border-left-color: var(--bad); } .card.muted { border-left-color: #c4c9d0; }
figure { margin: 10px 0 16px; }
details { margin: 8px 0 12px; }
details > summary { cursor: pointer; font-weight: 600; color: var(--accent); }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 12px; color: var(--muted); margin-top: 2px; }
.table-wrap { overflow-x: auto; margin: 8px 0 16px; }
table { border-collapse: collapse; font-size: 12.5px; min-width: 50%; }
caption { text-align: left; font-weight: 600; padding: 4px 0 6px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.ok td:last-child { color: var(--ok); font-weight: 600; }
tr.ok { background: var(--ok-bg); } tr.warn { background: var(--warn-bg); }
tr.bad { background: var(--bad-bg); } tr.bad td:last-child { color: var(--bad); font-weight: 600; }
tr.muted td { color: var(--muted); }
ul.notes { margin: 0 0 10px; padding-left: 18px; color: var(--muted); }
ul.notes li.no-data { color: #92400e; }
.error { background: var(--bad-bg); color: var(--bad); padding: 10px 12px; border-radius: 6px;
  white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 12px; }
footer { color: var(--muted); font-size: 12px; text-align: center; margin-top: 24px; }
@media print { body { background: #fff; } section { break-inside: avoid; } }
"""


def render_html(report: Report, seconds: float | None = None) -> str:
    """The whole page: inline CSS, figures as data URIs, nothing fetched from anywhere."""
    escape = html.escape
    nav = "".join(
        f'<a href="#{escape(section.key)}">{escape(section.title)}</a>'
        for section in report.sections
    )
    body = "\n".join(render_section(section) for section in report.sections)
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>ClassPulse report — {report.day.isoformat()}</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n"
        '<header class="top">\n'
        f"<h1>ClassPulse daily report — {report.day.isoformat()}</h1>\n"
        f'<div class="meta">Generated {escape(report.generated_at)} (business time){took} '
        f"from {escape(report.server)}; offline marts (ads) unless noted.</div>\n"
        f"<nav>{nav}</nav>\n</header>\n"
        f'<main data-day="{report.day.isoformat()}">\n{body}\n'
        "<footer>ClassPulse · figures rendered with matplotlib · this page is self-contained"
        "</footer>\n</main>\n</body>\n</html>\n"
    )


def render_section(section: Section) -> str:
    escape = html.escape
    parts = [
        f'<section id="{escape(section.key)}">',
        f"<h2>{escape(section.title)}</h2>",
    ]
    if section.lead:
        parts.append(f'<p class="lead">{escape(section.lead)}</p>')
    if section.error:
        parts.append(
            f'<div class="error">This section could not be rendered: {escape(section.error)}</div>'
        )
    if section.notes:
        parts.append('<ul class="notes">')
        for note in section.notes:
            kind = ' class="no-data"' if note.startswith("no data") else ""
            parts.append(f"<li{kind}>{escape(note)}</li>")
        parts.append("</ul>")
    if section.cards:
        parts.append('<div class="cards">')
        parts.extend(render_card(card) for card in section.cards)
        parts.append("</div>")
    for chart in section.charts:
        parts.append(f'<figure><img src="{chart.data_uri}" alt="{escape(chart.title)}"></figure>')
    parts.extend(render_table(table) for table in section.tables)
    parts.append("</section>")
    return "\n".join(parts)


def render_card(card: Card) -> str:
    escape = html.escape
    raw = "" if card.raw is None else f' data-value="{escape(str(card.raw))}"'
    status = f" {escape(card.status)}" if card.status else ""
    detail = f'<div class="detail">{escape(card.detail)}</div>' if card.detail else ""
    return (
        f'<div class="card{status}" data-metric="{escape(card.key)}"{raw}>'
        f'<div class="label">{escape(card.label)}</div>'
        f'<div class="value">{escape(card.value)}</div>{detail}</div>'
    )


def render_table(table: TableView) -> str:
    escape = html.escape
    numeric = table.numeric or (False,) * len(table.columns)

    def cell(tag: str, value: str, is_numeric: bool) -> str:
        css = ' class="num"' if is_numeric else ""
        return f"<{tag}{css}>{escape(value)}</{tag}>"

    head = "".join(
        cell("th", name, flag) for name, flag in zip(table.columns, numeric, strict=True)
    )
    rows = []
    for index, row in enumerate(table.rows):
        status = table.statuses[index] if index < len(table.statuses) else ""
        css = f' class="{escape(status)}"' if status else ""
        cells = "".join(cell("td", value, flag) for value, flag in zip(row, numeric, strict=True))
        rows.append(f"<tr{css}>{cells}</tr>")
    markup = (
        '<div class="table-wrap"><table>'
        f"<caption>{escape(table.caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    if table.collapsed:
        return f"<details><summary>{escape(table.caption)}</summary>{markup}</details>"
    return markup


__all__ = [
    "DEFAULT_REPORT_PATH",
    "SECTION_TITLES",
    "Report",
    "ReportError",
    "Section",
    "collect_report",
    "render_html",
    "write_report",
]
