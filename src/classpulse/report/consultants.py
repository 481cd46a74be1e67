"""Section 5: consultants' confirmed follow-ups per day and the top consultants."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from classpulse.report.charts import (
    annotate_bars,
    create_figure,
    render_chart,
    set_day_ticks,
    stack_bars,
    with_chart_style,
)
from classpulse.report.data import MartReader
from classpulse.report.formatting import (
    format_count,
    note_no_data,
)
from classpulse.report.model import (
    TOP_CONSULTANTS,
    TREND_DAYS,
    Chart,
    Section,
    SectionParts,
    TableView,
)

if TYPE_CHECKING:
    import pandas as pd


def build_consultant_section(reader: MartReader, day: date) -> Section:
    """Confirmed follow-ups per consultant: the top consultants and the daily totals."""

    first_day = day - timedelta(days=TREND_DAYS - 1)
    frame = reader.frame_of(
        "ads.cc_daily_tracking",
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
        return SectionParts(
            notes=[
                note_no_data(
                    f"ads.cc_daily_tracking in the {TREND_DAYS} days up to {day.isoformat()}"
                )
            ]
        ).numbered_section("consultants", lead)
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
    parts = SectionParts(charts=[chart], tables=[table], notes=notes)
    return parts.numbered_section("consultants", lead)


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
