"""Section 8: live-classroom help triage, how the labels handled the day's help presses.

From ads.help_request_triage and ads.help_triage_daily (LIVE_CLASSROOM_CONTRACT.md A.5, A.6).

Cards: requests, auto_share and resolved_share (= resolved / (requests - merged); the seed's
~60 % is the reference, not a target), manual tickets per 1k lessons, rows without their
dimension. One figure of three panels: requests by category per hour, the share resolved
automatically per hour, and the distribution of decision times (handle_ms).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from classpulse.report.charts import (
    create_figure,
    render_chart,
    set_hour_axis,
    stack_by_hour,
    with_chart_style,
)
from classpulse.report.data import MartReader
from classpulse.report.formatting import format_count, format_share, note_no_data
from classpulse.report.model import Card, Chart, Section, SectionParts, TableView

if TYPE_CHECKING:
    import pandas as pd

SEED_RESOLVED_SHARE = 0.6
CATEGORY_COLORS = {
    "device": "#4C72B0",
    "peer_device": "#8172B3",
    "enter": "#55A868",
    "peer_absent": "#64B5CD",
    "network": "#DD8452",
    "media": "#C44E52",
    "courseware": "#937860",
    "uncovered": "#8C8C8C",
    "fm_present": "#CCB974",
    "no_evidence": "#B0B0B0",
    "expired": "#DA8BC3",
}


def share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


LEAD = (
    "Help presses and proactively detected problems of the live classrooms, triaged "
    "by the real-time labels (30 s windows, decision 15 s after the press at most, "
    "verified on the next window). Offline figures: every press, late ones included."
)


def build_help_triage_section(reader: MartReader, day: date, title: str) -> Section:
    parts = SectionParts()
    if not reader.has("ads.help_request_triage", "ads.help_triage_daily"):
        parts.notes.append(note_no_data("ads.help_request_triage", day))
        return parts.section("help-triage", title)
    tz = reader.timezone
    daily = reader.frame(
        "SELECT source, category, requests, auto, resolved, escalated, manual, merged, "
        "handle_ms_sum FROM ads.help_triage_daily WHERE day = {day:Date} "
        "ORDER BY source, requests DESC, category",
        day=day,
    )
    if daily.empty:
        parts.notes.append(note_no_data("ads.help_triage_daily", day))
        return parts.section("help-triage", title)
    requests = int(daily.requests.sum())
    merged = int(daily.merged.sum())
    decided = requests - merged
    auto = int(daily.auto.sum())
    resolved = int(daily.resolved.sum())
    manual = int(daily.manual.sum())
    lessons = int(
        reader.scalar(
            "SELECT uniqExactIf(lesson_id, lesson_id != 0) FROM ads.room_user_labels_30s "
            "WHERE toDate(intDiv(start_time, 1000), {tz:String}) = {day:Date}",
            tz=tz,
            day=day,
        )
        or 0
    )
    missing = reader.rows(
        "SELECT countIf(dim_status != 'ok'), count() FROM ads.help_request_triage "
        "WHERE toDate(intDiv(request_time, 1000), {tz:String}) = {day:Date}",
        tz=tz,
        day=day,
    )[0]
    resolved_share = share(resolved, decided)
    parts.cards = [
        Card(
            "help_requests",
            "Help requests and detected tickets",
            format_count(requests),
            requests,
            f"{merged} merged duplicates",
        ),
        Card(
            "auto_share",
            "Decided automatically",
            format_share(share(auto, decided)),
            share(auto, decided),
            "auto / (requests − merged)",
        ),
        Card(
            "resolved_share",
            "Resolved automatically",
            format_share(resolved_share),
            resolved_share,
            f"seed reference ≈ {SEED_RESOLVED_SHARE:.0%}",
            "ok"
            if resolved_share is not None and resolved_share >= SEED_RESOLVED_SHARE
            else "warn",
        ),
        Card(
            "manual_per_1k_lessons",
            "Manual tickets per 1k lessons",
            format_count(1000 * manual / lessons) if lessons else "–",
            1000 * manual / lessons if lessons else None,
            f"{manual} manual, {lessons} lessons",
        ),
        Card(
            "dim_missing_share",
            "Rows without their dimension",
            format_share(share(missing[0], missing[1])),
            share(missing[0], missing[1]),
            "dim_status ≠ ok (gate warns above 1 %)",
            "warn" if (share(missing[0], missing[1]) or 0) > 0.01 else "ok",
        ),
    ]
    hourly = reader.frame(
        "SELECT toHour(fromUnixTimestamp64Milli(request_time, {tz:String})) AS hour, category, "
        "count() AS requests, countIf(verify_status = 'resolved') AS resolved, "
        "countIf(outcome != 'merged') AS decided "
        "FROM ads.help_request_triage "
        "WHERE toDate(intDiv(request_time, 1000), {tz:String}) = {day:Date} "
        "AND outcome != 'merged' GROUP BY hour, category ORDER BY hour, category",
        tz=tz,
        day=day,
    )
    handle = reader.frame(
        "SELECT handle_ms FROM ads.help_request_triage "
        "WHERE toDate(intDiv(request_time, 1000), {tz:String}) = {day:Date} "
        "AND source = 'help' AND outcome != 'merged'",
        tz=tz,
        day=day,
    )
    if not hourly.empty:
        parts.charts.append(plot_help_triage(hourly, handle, day))
    parts.tables.append(
        TableView(
            caption=f"help_triage_daily on {day.isoformat()}",
            columns=(
                "source",
                "category",
                "requests",
                "auto",
                "resolved",
                "escalated",
                "manual",
                "merged",
                "mean decision s",
            ),
            rows=tuple(
                (
                    str(row.source),
                    str(row.category),
                    format_count(row.requests),
                    format_count(row.auto),
                    format_count(row.resolved),
                    format_count(row.escalated),
                    format_count(row.manual),
                    format_count(row.merged),
                    f"{row.handle_ms_sum / max(row.requests - row.merged, 1) / 1000:.1f}",
                )
                for row in daily.itertuples()
            ),
            numeric=(False, False, True, True, True, True, True, True, True),
        )
    )
    return parts.section("help-triage", title, LEAD)


@with_chart_style
def plot_help_triage(hourly: pd.DataFrame, handle: pd.DataFrame, day: date) -> Chart:
    """Requests by category per hour; the share resolved automatically; decision times."""
    figure = create_figure(7.2)
    top, middle, bottom = figure.subplots(3, 1, height_ratios=(3, 2, 2))
    first, last = stack_by_hour(top, hourly, "category", "requests", CATEGORY_COLORS)
    top.set_ylabel("requests")
    top.set_title(f"Help requests by category per hour, {day.isoformat()}")
    top.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    per_hour = hourly.groupby("hour")[["resolved", "decided"]].sum()
    rate = (per_hour.resolved / per_hour.decided.where(per_hour.decided > 0)).reindex(
        range(first, last + 1)
    )
    middle.plot([h + 0.5 for h in rate.index], rate.values, marker="o")
    middle.axhline(SEED_RESOLVED_SHARE, linestyle="--", color="#8C8C8C", label="seed ≈ 60 %")
    middle.set_ylim(0, 1)
    set_hour_axis(middle, first, last)
    middle.set_ylabel("resolved share")
    middle.legend(loc="lower right", fontsize=8)
    seconds = handle.handle_ms / 1000 if not handle.empty else []
    bottom.hist(seconds, bins=range(0, 17), color="#4C72B0")
    bottom.set_xlabel("decision time after the press (s; at most 15 by construction)")
    bottom.set_ylabel("requests")
    return render_chart(figure, "Help triage: requests by category, resolved share, decision time")
