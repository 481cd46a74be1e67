"""Section 6: reconciliation, rejected messages, late events, accounting and the GX gate."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from classpulse.report.charts import (
    MUTED,
    REASON_COLORS,
    annotate_bars,
    create_figure,
    render_chart,
    stack_bars,
    with_chart_style,
)
from classpulse.report.data import MartReader
from classpulse.report.formatting import (
    format_count,
    note_no_data,
)
from classpulse.report.headline import summarize_quality
from classpulse.report.model import (
    RECONCILIATION_DAYS,
    Chart,
    Section,
    SectionParts,
    TableView,
)

if TYPE_CHECKING:
    import pandas as pd

    from classpulse.quality import QualityReport, SuiteResult


LEAD = (
    "Nothing is lost silently: every rejected message lands with its reason, every "
    "event a real-time window dropped lands as late, and each real-time mart must "
    "equal its offline twin once late events are added back."
)


def build_data_quality_section(
    reader: MartReader, day: date, quality: QualityReport | None
) -> Section:
    """Reconciliation per mart and day, rejected messages, late events, accounting, GX."""
    import pandas as pd

    parts = SectionParts()
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
            parts.notes.append(
                f"Reconciliation over all days: {overall[0]:,} of {overall[1]:,} mart-days "
                "do not reconcile (offline total ≠ real-time total + what the late events "
                "explain)."
            )
    if reconciliation.empty:
        parts.notes.append(
            note_no_data(
                f"ads.rt_vs_offline_reconciliation in the {RECONCILIATION_DAYS} days up to "
                f"{day.isoformat()}"
            )
        )
    else:
        parts.tables.append(
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
    rejected = reader.frame_of(
        "ods.rejected_messages",
        "SELECT topic, reason, count() AS messages FROM ods.rejected_messages "
        "GROUP BY topic, reason ORDER BY topic, reason",
    )
    if rejected.empty:
        parts.notes.append(note_no_data("ods.rejected_messages (nothing rejected)"))
    else:
        parts.tables.append(tabulate_rejections(rejected))
    late = reader.frame_of(
        "ods.late_events",
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
        parts.notes.append(note_no_data("ods.late_events (no real-time window dropped an event)"))
    else:
        parts.tables.append(
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
    parts.tables.extend(tabulate_accounting(reader, parts.notes))
    parts.tables.extend(tabulate_quality(quality, parts.notes))
    on_day = reconciliation[reconciliation.day == day] if not reconciliation.empty else None
    if on_day is not None and not on_day.empty:
        parts.charts.append(plot_reconciliation(on_day, day))
    if not rejected.empty:
        parts.charts.append(plot_rejections(rejected))
    return parts.numbered_section("data-quality", LEAD)


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


# Each accounting identity: the table, its query (name, whole, part, part), the caption, the
# column heads, and what the note says when the table is empty.
ACCOUNTING_IDENTITIES = (
    (
        "ods.topic_accounting",
        "SELECT topic, messages_read, accepted, rejected FROM ods.topic_accounting ORDER BY topic",
        "Topic accounting: messages read = accepted + rejected",
        ("topic", "read", "accepted", "rejected", "holds"),
        "ods.topic_accounting",
    ),
    (
        "ods.mart_accounting",
        "SELECT mart, events_in, events_counted, events_late FROM ods.mart_accounting "
        "ORDER BY mart",
        "Real-time mart accounting: events in = counted + late",
        ("mart", "events in", "counted", "late", "holds"),
        "ods.mart_accounting (the real-time jobs reported nothing)",
    ),
)


def tabulate_accounting(reader: MartReader, notes: list[str]) -> list[TableView]:
    """Topic accounting (read = accepted + rejected) and mart accounting (in = counted + late)."""
    tables = []
    for table, query, caption, columns, missing in ACCOUNTING_IDENTITIES:
        if not reader.has(table):
            continue
        rows = reader.rows(query)
        if not rows:
            notes.append(note_no_data(missing))
            continue
        holds = [whole == first + second for _, whole, first, second in rows]
        tables.append(
            TableView(
                caption=caption,
                columns=columns,
                rows=tuple(
                    (str(name), *(format_count(value) for value in counts), "yes" if ok else "NO")
                    for (name, *counts), ok in zip(rows, holds, strict=True)
                ),
                statuses=tuple("ok" if ok else "bad" for ok in holds),
                numeric=(False, True, True, True, False),
            )
        )
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
