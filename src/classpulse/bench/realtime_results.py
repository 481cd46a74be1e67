"""The real-time benchmark's figures: the report, its JSON file and plot, the printed tables."""

from __future__ import annotations

import json
import math
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from classpulse.bench.realtime_freshness import FRESHNESS_TABLE, FRESHNESS_WINDOW_MS
from classpulse.bench.realtime_phases import without_planning
from classpulse.bench.realtime_setup import RealtimeOptions
from classpulse.config import load_settings

MEASUREMENTS = ("flink", "copy", "landing", "chdb")
LABELS = {
    "flink": ("Kafka → all cleaning + marts → Kafka, exactly once", "messages"),
    "copy": ("Flink copying the same raw messages Kafka → Kafka, exactly once", "messages"),
    "landing": ("Kafka → ClickHouse landing", "rows"),
    "chdb": ("chDB parsing the same raw JSON (ceiling)", "messages"),
}
GOALS = {"flink": 150_000.0, "landing": 300_000.0}  # per second, on 2 cores (issue 10)


@dataclass
class RealtimeReport:
    options: RealtimeOptions
    messages: int = 0
    produced: dict[str, int] = field(default_factory=dict)  # source topic -> messages
    produced_seconds: float = 0.0
    engine_start_seconds: float = 0.0
    pipeline_start_seconds: float = 0.0  # freshness: the continuous pipeline's start
    seconds: dict[str, list[float]] = field(default_factory=dict)
    flink_jobs_seconds: list[list[float]] = field(default_factory=list)  # per round, per job
    # per measurement run by Flink (flink, copy), per round: the part of its seconds spent
    # planning its stages (StageResult.planning_seconds), which a running job pays once
    planning: dict[str, list[float]] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)  # messages or rows per measurement
    landed: dict[str, int] = field(default_factory=dict)  # landing table -> rows (last round)
    freshness_ms: list[float] = field(default_factory=list)
    after_close_ms: list[float] = field(default_factory=list)
    paced_messages: int = 0
    warm_up_messages: int = 0
    windows_seen: int = 0
    copy_committed: int = 0  # what a read_committed reader finds in the copy topics, last round
    identities: str = ""
    identities_hold: bool = False
    labels: Any = None  # live classroom (realtime_labels.LabelsFigures)
    sustained: Any = None  # classpulse.bench.sustained.SustainedResult: the running job's rate
    result_file: Path | None = None
    plot_file: Path | None = None
    rooms: Any = None  # realtime_rooms.RoomFigures

    def rate(self, name: str) -> float:
        values = self.seconds.get(name) or []
        if not values or not self.units.get(name):
            return float("nan")
        return self.units[name] / statistics.median(values)

    def running_seconds(self, name: str) -> list[float]:
        """Each round's seconds of a Flink measurement without its planning."""
        return without_planning(self.seconds.get(name) or [], self.planning.get(name) or [])

    def running_rate(self, name: str) -> float:
        values = self.running_seconds(name)
        if not values or not self.units.get(name):
            return math.nan
        return self.units[name] / statistics.median(values)

    def as_dict(self) -> dict[str, Any]:
        options = {
            key: str(value) if isinstance(value, Path) else value
            for key, value in asdict(self.options).items()
        }
        measurements = {}
        for name in MEASUREMENTS:
            values = self.seconds.get(name) or []
            rate = self.rate(name)
            measurements[name] = {
                "label": LABELS[name][0],
                "unit": LABELS[name][1],
                "units": self.units.get(name, 0),
                "seconds": values,
                "median_seconds": statistics.median(values) if values else None,
                "per_second": None if math.isnan(rate) else rate,
                "goal_per_second": GOALS.get(name),
            }
            if name in self.planning:
                measurements[name]["planning_seconds"] = self.planning[name]
                measurements[name]["planning_excluded_per_second"] = _or_none(
                    self.running_rate(name)
                )
        return {
            "benchmark": "realtime",
            "valid_figures": "only on a quiet machine; compare within one run",
            "options": options,
            "messages": self.messages,
            "produced": self.produced,
            "produce_per_second": self.messages / self.produced_seconds
            if self.produced_seconds
            else None,
            "engine_start_seconds": self.engine_start_seconds,
            "pipeline_start_seconds": self.pipeline_start_seconds,
            "measurements": measurements,
            "flink_jobs_seconds": self.flink_jobs_seconds,
            "copy_committed": self.copy_committed,
            "landed_rows": self.landed,
            "freshness": {
                "table": FRESHNESS_TABLE,
                "window_seconds": FRESHNESS_WINDOW_MS / 1000,
                "watermark_delay_seconds": self.options.watermark_delay_seconds,
                "goal_p95_seconds": FRESHNESS_WINDOW_MS / 1000 + 5,
                "paced_messages": self.paced_messages,
                "warm_up_messages": self.warm_up_messages,
                "measured_messages": len(self.freshness_ms),
                "windows": self.windows_seen,
                "p50_seconds": _seconds(percentile(self.freshness_ms, 0.5)),
                "p95_seconds": _seconds(percentile(self.freshness_ms, 0.95)),
                "after_close_p50_seconds": _seconds(percentile(self.after_close_ms, 0.5)),
                "after_close_p95_seconds": _seconds(percentile(self.after_close_ms, 0.95)),
                "freshness_ms": self.freshness_ms,
            },
            "identities": self.identities,
            "identities_hold": self.identities_hold,
            "rooms": self.rooms.as_dict() if self.rooms is not None else None,
            "labels": self.labels.as_dict() if self.labels is not None else None,
            "flink_sustained": _sustained_dict(self.sustained),
        }


def _sustained_dict(result: Any) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "label": "continuous job on the produced backlog: source messages/s between 10% and 90%",
        "backlog": result.backlog,
        "cleaning_per_second": result.first_stage_per_second,
        "marts_per_second": result.later_stage_per_second,
        "mart_source_rows": result.later_rows,
        "submitted_to_first_record_seconds": result.submitted_to_first_record_seconds,
        "caught_up_seconds": result.caught_up_seconds,
        "samples": result.samples,
    }


def _or_none(value: float) -> float | None:
    return None if math.isnan(value) else value


def _seconds(milliseconds: float) -> float | None:
    return None if math.isnan(milliseconds) else milliseconds / 1000


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1); NaN when there is no value."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


# -- output ----------------------------------------------------------------------------------


def write_results(report: RealtimeReport) -> None:
    """The JSON result file, and a plot beside it when matplotlib is installed."""
    path = report.options.output or (
        load_settings().home / "bench" / f"realtime-{time.strftime('%Y%m%d-%H%M%S')}.json"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.as_dict(), indent=2, default=str) + "\n")
    report.result_file = path
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    from classpulse.bench import realtime_labels
    from classpulse.bench.realtime_rooms import plot_rooms

    figure, (bars, fresh, labels, rooms) = plt.subplots(1, 4, figsize=(23, 4.5))
    plot_rooms(report.rooms, rooms)
    names = [name for name in MEASUREMENTS if not math.isnan(report.rate(name))]
    rates = [report.rate(name) / 1000 for name in names]
    bars.bar(names, rates, color=["#4c72b0", "#55a868", "#8c8c8c"][: len(names)])
    for name, goal in GOALS.items():
        if name in names:
            spot = names.index(name)
            bars.hlines(goal / 1000, spot - 0.4, spot + 0.4, colors="red", linestyles="dashed")
    bars.set_ylabel("thousand per second (median)")
    bars.set_title(f"Throughput on {report.messages:,} messages (goals dashed)")
    if report.freshness_ms:
        fresh.hist([value / 1000 for value in report.freshness_ms], bins=40, color="#4c72b0")
        for share, style in ((0.5, "dotted"), (0.95, "dashed")):
            fresh.axvline(percentile(report.freshness_ms, share) / 1000, color="k", ls=style)
        fresh.axvline(FRESHNESS_WINDOW_MS / 1000 + 5, color="red", ls="dashed")
    fresh.set_xlabel("produce → queryable in rt (s); p50 dotted, p95 dashed, goal red")
    fresh.set_title("Freshness under a paced load")
    realtime_labels.plot(labels, report)
    figure.tight_layout()
    plot = path.with_suffix(".png")
    figure.savefig(plot, dpi=100)
    plt.close(figure)
    report.plot_file = plot


def print_realtime_benchmark(report: RealtimeReport, console: Any) -> None:
    from rich.table import Table

    options = report.options
    table = Table(
        title=(
            f"Real-time path on {report.messages:,} generated messages (median of "
            f"{options.repeats}, parallelism {options.parallelism}, {options.partitions} "
            "partitions per topic)"
        ),
        header_style="bold cyan",
    )
    for column in ("measurement", "units", "median", "per second", "goal", "vs flink"):
        table.add_column(column, justify="left" if column == "measurement" else "right")
    flink_rate = report.rate("flink")
    for name, (label, unit) in LABELS.items():
        values = report.seconds.get(name) or []
        rate = report.rate(name)
        goal = GOALS.get(name)
        table.add_row(
            label,
            f"{report.units.get(name, 0):,} {unit}",
            f"{statistics.median(values):.2f} s" if values else "–",
            f"{rate:,.0f} {unit}/s" if not math.isnan(rate) else "–",
            f"{goal:,.0f}/s" if goal else "",
            f"{rate / flink_rate:.2f}x" if flink_rate and not math.isnan(rate) else "–",
        )
        if name in report.planning:
            running = report.running_seconds(name)
            rate = report.running_rate(name)
            table.add_row(
                "… the same rounds without planning (a running job plans once)",
                f"{report.messages:,} {unit}",
                f"{statistics.median(running):.2f} s" if running else "–",
                f"{rate:,.0f} {unit}/s" if not math.isnan(rate) else "–",
                "",
                f"{rate / flink_rate:.2f}x" if flink_rate and not math.isnan(rate) else "–",
            )
    console.print(table)
    fresh = Table(
        title=(
            f"Freshness under a paced load ({options.rate:g} msg/s for {options.pace_seconds:g} s,"
            f" 30 s windows, watermark delay {options.watermark_delay_seconds} s, checkpoints "
            f"every {options.checkpoint_interval}; goal p95 ≤ 35 s)"
        ),
        header_style="bold cyan",
    )
    for column in ("measurement", "p50", "p95", "messages", "windows"):
        fresh.add_column(column, justify="left" if column == "measurement" else "right")

    def shown(values: list[float], share: float) -> str:
        value = percentile(values, share)
        return "–" if math.isnan(value) else f"{value / 1000:.2f} s"

    fresh.add_row(
        f"produce → queryable in {FRESHNESS_TABLE}",
        shown(report.freshness_ms, 0.5),
        shown(report.freshness_ms, 0.95),
        f"{len(report.freshness_ms):,} of {report.paced_messages:,}",
        str(report.windows_seen),
    )
    fresh.add_row(
        "window closable (end + delay) → queryable",
        shown(report.after_close_ms, 0.5),
        shown(report.after_close_ms, 0.95),
        "",
        "",
    )
    console.print(fresh)
    from classpulse.bench import realtime_labels

    realtime_labels.print_figures(report, console)
    produce_rate = report.messages / report.produced_seconds if report.produced_seconds else 0.0
    console.print(
        f"produce into Kafka: {produce_rate:,.0f} msg/s; Flink engine start (once, not "
        f"measured): {report.engine_start_seconds:.1f} s; continuous pipeline start: "
        f"{report.pipeline_start_seconds:.1f} s"
    )
    sustained = report.sustained
    if sustained is not None:
        rates = [
            f"{name} {value:,.0f} msg/s" if value else f"{name} –"
            for name, value in (
                ("cleaning sources", sustained.first_stage_per_second),
                ("mart sources", sustained.later_stage_per_second),
            )
        ]
        console.print(
            "Flink, continuous job on the produced backlog (10%..90%; planning, deploy and the "
            f"tail outside it): {'; '.join(rates)}; everything read "
            + (
                f"{sustained.caught_up_seconds:.1f} s after submission"
                if sustained.caught_up_seconds is not None
                else "– (not caught up)"
            )
        )
    console.print(f"accounting identities after the last round: {report.identities}")
    from classpulse.bench.realtime_rooms import print_rooms

    print_rooms(report.rooms, console)
    if report.result_file is not None:
        console.print(f"results: {report.result_file}")
    if report.plot_file is not None:
        console.print(f"plot: {report.plot_file}")
    console.print(
        "[dim]Figures taken on a busy machine are not valid: compare only within one run.[/dim]"
    )
