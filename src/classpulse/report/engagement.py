"""Section 3: classroom engagement by event type, hour, tutor and group kind."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from classpulse.report.charts import (
    EVENT_COLORS,
    MUTED,
    annotate_bars,
    create_figure,
    render_chart,
    stack_by_hour,
    with_chart_style,
)
from classpulse.report.data import MartReader
from classpulse.report.formatting import (
    format_count,
    format_number,
    format_share,
    label_event,
    label_tutor,
    note_no_data,
)
from classpulse.report.model import (
    TOP_TUTORS,
    Chart,
    Section,
    SectionParts,
    TableView,
)

if TYPE_CHECKING:
    import pandas as pd


HOURLY_MART = "ads.student_events_hourly_by_type"
DAILY_MART = "ads.student_events_daily_by_type"
ENGAGEMENT_MARTS = (
    "ads.tutor_engagement_daily",
    "ads.group_kind_engagement_daily",
    "ads.engagement_attribution_daily",
)
"""Engagement per tutor and group kind, and what no tutor is credited with (dbt models)."""


def build_engagement_section(reader: MartReader, day: date) -> Section:
    """Student events by type per hour, and by tutor and group kind (preheat dimension)."""
    parts = SectionParts()
    hourly = None
    if reader.has(HOURLY_MART, DAILY_MART):
        hourly = reader.frame(
            "SELECT event_hour AS hour, event, student_events AS events "
            "FROM ads.student_events_hourly_by_type WHERE event_date = {day:Date} "
            "ORDER BY hour, event",
            day=day,
        )
    if hourly is None or hourly.empty:
        parts.notes.append(note_no_data(HOURLY_MART, day))
        return parts.numbered_section("engagement", describe_engagement())
    parts.charts.append(plot_events_by_hour(hourly, day))
    totals = reader.frame(
        "SELECT event, student_events AS events, students, rooms "
        "FROM ads.student_events_daily_by_type WHERE event_date = {day:Date} "
        "ORDER BY events DESC, event",
        day=day,
    )
    all_events = float(totals.events.sum())
    parts.tables.append(
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
    parts.charts.extend(tutor_chart)
    parts.tables.extend(tutor_tables)
    parts.notes.extend(tutor_notes)
    return parts.numbered_section("engagement", describe_engagement())


def describe_engagement() -> str:
    return (
        "Classified student courseware events (offline mart, late events included) per hour "
        "of the business day, and per tutor and group kind from the day's published preheat. "
        "A student booked into several lessons that day has their events split evenly "
        "across those lessons."
    )


@with_chart_style
def plot_events_by_hour(hourly: pd.DataFrame, day: date) -> Chart:
    figure = create_figure(3.4)
    axes = figure.add_subplot()
    stack_by_hour(axes, hourly, "event", "events", EVENT_COLORS, label_event)
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
    if not reader.has(*ENGAGEMENT_MARTS):
        return [], [], [note_no_data(", ".join(ENGAGEMENT_MARTS), day)]
    tutors = reader.frame(
        "SELECT tutor_id, group_kinds, tutoring_sources AS sources, booked_students AS students, "
        "engaged_students AS engaged, student_events AS events "
        "FROM ads.tutor_engagement_daily WHERE event_date = {day:Date} "
        "ORDER BY events DESC, tutor_id",
        day=day,
    )
    if tutors.empty:
        return [], [], [note_no_data("dim.lesson_student_current (published preheat)", day)]
    kinds = reader.frame(
        "SELECT group_kind, tutors, group_nodes AS groups, booked_students AS students, "
        "engaged_students AS engaged, student_events AS events "
        "FROM ads.group_kind_engagement_daily WHERE event_date = {day:Date} "
        "ORDER BY events DESC, group_kind",
        day=day,
    )
    attribution = reader.rows(
        "SELECT unplaced_events, unplaced_students FROM ads.engagement_attribution_daily "
        "WHERE event_date = {day:Date}",
        day=day,
    )
    unplaced = attribution[0] if attribution else (0, 0)
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
