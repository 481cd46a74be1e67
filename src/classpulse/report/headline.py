"""Section 1: headline numbers (messages, rejections, late events, rows per mart, gate)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from classpulse.report.charts import (
    create_figure,
    render_chart,
    with_chart_style,
)
from classpulse.report.data import MartReader
from classpulse.report.formatting import (
    format_age,
    format_count,
    note_no_data,
    rate_freshness,
)
from classpulse.report.model import (
    CONTRACT_MARTS,
    SECTION_TITLES,
    Card,
    Chart,
    Headline,
    Section,
    TableFreshness,
    TableView,
)

if TYPE_CHECKING:
    from classpulse.quality import QualityReport


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
