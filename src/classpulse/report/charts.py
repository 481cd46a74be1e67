"""Charts for the report: one matplotlib style, figures rendered to PNG, shared axes helpers."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, ParamSpec

from classpulse.report.formatting import format_count
from classpulse.report.model import Chart

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

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


def stack_by_hour(
    axes: Axes,
    frame: pd.DataFrame,
    column: str,
    values: str,
    colors: Mapping[str, str],
    label: Callable[[str], str] | None = None,
) -> tuple[int, int]:
    """``values`` stacked per hour of the day, one colour per ``column`` value (in ``colors``
    order, then the rest by name), every hour from the first to the last present; returns
    that first and last hour."""
    table = frame.pivot_table(
        index="hour", columns=column, values=values, aggfunc="sum", fill_value=0
    )
    first, last = int(table.index.min()), int(table.index.max())
    table = table.reindex(range(first, last + 1), fill_value=0)
    order = [key for key in colors if key in table.columns]
    order += sorted(set(table.columns) - set(order))
    stack_bars(
        axes,
        [hour + 0.5 for hour in table.index],
        {key: table[key].tolist() for key in order},
        colors,
        labels={key: label(key) for key in order} if label else None,
        width=0.85,
    )
    set_hour_axis(axes, first, last)
    return first, last


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
