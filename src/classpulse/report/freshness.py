"""Section 7: when each warehouse table was last landed or built, per layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from classpulse.report.charts import (
    DURATION_TICKS_MINUTES,
    FALLBACK_COLOR,
    LAYER_COLORS,
    MUTED,
    create_figure,
    render_chart,
    with_chart_style,
)
from classpulse.report.data import MartReader, quote_identifier
from classpulse.report.formatting import (
    format_age,
    format_count,
    note_no_data,
    rate_freshness,
)
from classpulse.report.model import (
    LANDING_DATABASES,
    REPORT_DATABASES,
    Chart,
    Section,
    SectionParts,
    TableFreshness,
    TableView,
)

if TYPE_CHECKING:
    pass


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


def build_freshness_section(freshness: Sequence[TableFreshness]) -> Section:
    """When each table was last landed or built, per layer."""
    lead = (
        "Landing tables (ods, rt logs) show the newest row's landed_at; dbt-built and "
        "preheat tables show when their data was last written. Views are not listed."
    )
    if not freshness:
        return SectionParts(
            notes=[note_no_data("any warehouse table (nothing landed or built yet)")]
        ).numbered_section("freshness", lead)
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
    parts = SectionParts(charts=charts, tables=[summary, table], notes=notes)
    return parts.numbered_section("freshness", lead)


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
