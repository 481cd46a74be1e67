"""Section 4: registrations by hour and channel level, and their trend over days."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from classpulse.report.charts import (
    LEVEL_COLORS,
    LEVELS,
    create_figure,
    render_chart,
    set_day_ticks,
    set_hour_axis,
    stack_bars,
    with_chart_style,
)
from classpulse.report.data import MartReader
from classpulse.report.formatting import (
    format_count,
    format_share,
    note_no_data,
)
from classpulse.report.model import (
    TREND_DAYS,
    Chart,
    Section,
    SectionParts,
    TableView,
)

if TYPE_CHECKING:
    import pandas as pd


TREND_MART = "ads.registrations_trend_hourly"
"""Registrations per day, hour and level (dbt model over registrations_hourly_by_level)."""


def build_registrations_section(reader: MartReader, day: date) -> Section:
    """Registrations per hour of the day and per day of the last weeks, stacked by level."""

    first_day = day - timedelta(days=TREND_DAYS - 1)
    frame = reader.frame_of(
        TREND_MART,
        "SELECT reg_date, reg_hour_of_day AS hour, level, leads "
        "FROM ads.registrations_trend_hourly "
        "WHERE reg_date BETWEEN {first_day:Date} AND {day:Date} "
        "ORDER BY reg_date, hour, level",
        first_day=first_day,
        day=day,
    )
    lead = (
        "Distinct counted registrations (NORMAL users, test accounts excluded) by hour of "
        f"registration and channel level; the right panel shows the {TREND_DAYS} days up to "
        "the report's day."
    )
    if frame.empty:
        return SectionParts(notes=[note_no_data(TREND_MART, day)]).numbered_section(
            "registrations", lead
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
    parts = SectionParts(charts=[chart], tables=[table], notes=notes)
    return parts.numbered_section("registrations", lead)


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
