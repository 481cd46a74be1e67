"""`classpulse bench …`: side-by-side benchmarks (medians of several repeats)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table


@click.group("bench")
def command() -> None:
    """Measure the project's speed figures, side by side in one run."""


def messages_option(default: int, text: str) -> Callable[[Any], Any]:
    """``--messages``: how many generated messages a benchmark runs on (1000 at least)."""
    return click.option(
        "--messages", default=default, show_default=True, type=click.IntRange(min=1000), help=text
    )


def interrupt_on_sigterm() -> None:
    """SIGTERM stops the stack the benchmark started, like Ctrl-C."""
    import signal

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


@command.command("warehouse")
@click.option("--rows", default=1_000_000, show_default=True, help="Rows per bulk insert.")
@click.option("--queries", default=1000, show_default=True, help="Small queries per repeat.")
@click.option("--repeats", default=5, show_default=True, help="Repeats; medians are reported.")
@click.option(
    "--pipeline-scales",
    default="1,10",
    show_default=True,
    help="Also land the Flink outputs of these generator scales and dbt-build them ('' to skip).",
)
def warehouse(rows: int, queries: int, repeats: int, pipeline_scales: str) -> None:
    """The embedded server against chDB in-process: bulk inserts and small queries."""
    from classpulse.bench.warehouse import run_warehouse_benchmark

    console = Console()
    with console.status("benchmarking the warehouse server against chDB in-process…"):
        results = run_warehouse_benchmark(rows=rows, small_queries=queries, repeats=repeats)
    table = Table(
        title=f"Warehouse server vs chDB in-process (median of {repeats})", header_style="bold cyan"
    )
    for column in ("workload", "server", "in-process", "server / in-process", "server per unit"):
        table.add_column(column, justify="right" if column != "workload" else "left")
    for item in results:
        per_unit = item.server.median / item.unit_count
        unit = (
            f"{per_unit * 1e3:.2f} ms/query"
            if "queries" in item.name
            else f"{item.unit_count / item.server.median:,.0f} rows/s"
        )
        table.add_row(
            item.name,
            f"{item.server.median:.3f} s",
            f"{item.in_process.median:.3f} s",
            f"{item.ratio:.2f}x",
            unit,
        )
    console.print(table)
    if pipeline_scales:
        from classpulse.bench.warehouse import run_pipeline_benchmark

        scales = [float(value) for value in pipeline_scales.split(",") if value]
        with console.status("landing and dbt build…") as spinner:
            figures = run_pipeline_benchmark(
                scales, repeats=max(1, min(repeats, 3)), on_step=spinner.update
            )
        landing = Table(title="Landing and dbt build (medians)", header_style="bold cyan")
        for column in ("scale", "rows landed", "load", "rows/s", "dbt build (all layers)"):
            landing.add_column(column, justify="right")
        for item in figures:
            landing.add_row(
                f"{item.scale:g}",
                f"{item.rows:,}",
                f"{item.load.median:.2f} s",
                f"{item.rows_per_second:,.0f}",
                f"{item.build.median:.1f} s",
            )
        console.print(landing)


@command.command("preheat")
@click.option("--small", default=30_000, show_default=True, help="Students of the small lesson.")
@click.option("--large", default=600_000, show_default=True, help="Students of the large lesson.")
@click.option(
    "--day-scale",
    default=40.0,
    show_default=True,
    help="Scale of the generated day (1 is ~53 lessons, ~12k enrollments).",
)
@click.option("--repeats", default=3, show_default=True, help="Repeats of each huge lesson.")
def preheat(small: int, large: int, day_scale: float, repeats: int) -> None:
    """The lesson preheat engine: a 30k and a 600k lesson, a scaled day, the peak projection."""
    from classpulse.preheat.bench import print_preheat_benchmark, run_preheat_benchmark

    console = Console()
    with console.status("benchmarking the preheat engine…") as status:
        results = run_preheat_benchmark(
            small_students=small,
            large_students=large,
            day_scale=day_scale,
            repeats=repeats,
            on_stage=lambda text: status.update(f"benchmarking the preheat engine: {text}…"),
        )
    print_preheat_benchmark(console, results)


@command.command("realtime")
@messages_option(
    1_100_000, "Generated messages measured (about; the generator's scale is derived from it)."
)
@click.option("--repeat", "repeats", default=3, show_default=True, help="Rounds; medians shown.")
@click.option("--rate", default=2000.0, show_default=True, help="Paced messages/s (freshness).")
@click.option("--pace-seconds", default=120.0, show_default=True, help="Length of the paced load.")
@click.option(
    "--watermark-delay",
    default=2,
    show_default=True,
    help="Freshness: the pipeline's watermark delay in seconds (the paced events are in order).",
)
@click.option("--partitions", default=2, show_default=True, help="Partitions per topic.")
@click.option("--parallelism", default=2, show_default=True, help="Flink parallelism.")
@click.option(
    "--topics",
    "topics_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Measure these topic files instead of generating a day.",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="JSON result file (default: <CLASSPULSE_HOME>/bench/realtime-<time>.json; a .png "
    "plot beside it).",
)
@click.option(
    "--var",
    "assignments",
    multiple=True,
    metavar="NAME=VALUE",
    help="A ${VAR} of the SQL files for this run (e.g. KAFKA_PRODUCER_LINGER_MS=50); repeatable.",
)
@click.option(
    "--flink-option",
    "flink_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="A Flink option for this run (e.g. table.exec.mini-batch.size=20000); repeatable.",
)
@click.option(
    "--quick", is_flag=True, help="A small smoke run (~4k messages, one round, 40 s pace)."
)
@click.option(
    "--rooms/--no-rooms",
    default=True,
    show_default=True,
    help="Also the room jobs' figures (messages/s, minute freshness, state per online user).",
)
def realtime(
    messages: int,
    repeats: int,
    rate: float,
    pace_seconds: float,
    watermark_delay: int,
    partitions: int,
    parallelism: int,
    topics_dir: Path | None,
    output: Path | None,
    assignments: tuple[str, ...],
    flink_options: tuple[str, ...],
    quick: bool,
    rooms: bool,
) -> None:
    """Kafka → Flink → Kafka, landing into ClickHouse, chDB's ceiling, and freshness.

    Runs on a broker and a warehouse of its own (stopped at the end), on one generated day
    produced once; see classpulse.bench.realtime for what each figure measures. Figures are
    valid only on a quiet machine.
    """
    from classpulse.bench.realtime import RealtimeOptions, run_realtime_benchmark
    from classpulse.bench.realtime_results import print_realtime_benchmark, write_results
    from classpulse.flink.variables import parse_assignments

    try:
        variables = tuple(parse_assignments(assignments).items())
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--var") from None
    properties = []
    for pair in flink_options:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise click.BadParameter(
                f"expected KEY=VALUE, got {pair!r}", param_hint="--flink-option"
            )
        properties.append((key.strip(), value.strip()))
    common = {
        "variables": variables,
        "flink_properties": tuple(properties),
        "partitions": partitions,
        "parallelism": parallelism,
        "topics_dir": topics_dir,
        "output": output,
        "rooms": rooms,
    }
    if quick:
        options = RealtimeOptions.quick_options(**common)
    else:
        options = RealtimeOptions(
            messages=messages,
            repeats=repeats,
            rate=rate,
            pace_seconds=pace_seconds,
            watermark_delay_seconds=watermark_delay,
            **common,
        )
    interrupt_on_sigterm()
    console = Console()
    report = run_realtime_benchmark(options, log=console.log, console=console)
    write_results(report)
    print_realtime_benchmark(report, console)


@command.command("sustained")
@messages_option(300_000, "Generated messages in the backlog (about).")
@click.option(
    "--variant",
    "variants",
    multiple=True,
    metavar="NAME[:KEY=VALUE,...]",
    help="A way to run the job, in turn on the same backlog: keys parallelism, "
    "one-sink-per-table (true/false), profile (JFR seconds), var.NAME, or any Flink option; "
    "repeatable (default: the defaults).",
)
@click.option(
    "--output",
    "output_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where the JFR recordings go (default: a scratch directory).",
)
@click.option(
    "--live-classroom",
    is_flag=True,
    help="The five live-classroom topics and their jobs only (cleaning, then the union + "
    "labels + triage job), instead of every other topic and job.",
)
def sustained(
    messages: int, variants: tuple[str, ...], output_dir: Path | None, live_classroom: bool
) -> None:
    """The continuous pipeline's sustained rate per variant, side by side on one backlog.

    Every job as one continuous job on one generated day produced once into a broker of its
    own; per variant the sources' rate between 10 % and 90 % of the backlog, the running
    job's tasks, and the vertices busiest while it runs. Ratios only: run on a quiet machine.
    """
    from classpulse.bench.sustained import Variant, compare_variants, cpu_per_message

    try:
        chosen = [Variant.parse(text) for text in variants] or [Variant("defaults")]
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--variant") from None
    interrupt_on_sigterm()
    console = Console()
    results = compare_variants(
        messages, chosen, log=console.log, output_dir=output_dir, live_classroom=live_classroom
    )
    table = Table(title="Continuous pipeline, sustained (10 %..90 % of the backlog)")
    columns = ("variant", "cleaning msg/s", "marts msg/s", "CPU µs/msg", "tasks", "busiest vertex")
    for column in columns:
        table.add_column(
            column, justify="left" if column in ("variant", "busiest vertex") else "right"
        )
    for result in results:
        rates = (result.sustained.first_stage_per_second, result.sustained.later_stage_per_second)
        busiest = max(
            result.vertices, key=lambda row: row.get("busyTimeMsPerSecond", 0.0), default=None
        )
        table.add_row(
            result.variant.name,
            *(f"{rate:,.0f}" if rate else "–" for rate in rates),
            " ".join(
                f"{name} {micros:.0f}" for name, micros in cpu_per_message(result.sustained).items()
            ),
            str(result.tasks or "–"),
            f"{busiest['name'][:60]} ({busiest.get('busyTimeMsPerSecond', 0):.0f} ms/s)"
            if busiest
            else "–",
        )
    console.print(table)
    for result in results:
        if result.profile:
            console.print(f"{result.variant.name}: JFR recording {result.profile}")


@command.command("rooms")
@click.option(
    "--scale", default=0.05, show_default=True, help="Room size: 1.0 = 60k users, 0.05 = 3k."
)
@click.option("--repeats", default=3, show_default=True, help="Rounds; medians are reported.")
@click.option("--partitions", default=2, show_default=True, help="Partitions per topic.")
@click.option("--parallelism", default=2, show_default=True, help="Flink parallelism.")
def rooms(scale: float, repeats: int, partitions: int, parallelism: int) -> None:
    """Room presence and loss jobs: messages/s and presence state per online user (issue 12).

    Runs on a broker of its own (stopped at the end); see classpulse.bench.rooms.
    """
    from classpulse.bench.rooms import (
        RoomsBenchOptions,
        print_rooms_benchmark,
        run_rooms_benchmark,
    )

    options = RoomsBenchOptions(
        scale=scale, repeats=repeats, partitions=partitions, parallelism=parallelism
    )
    console = Console()
    report = run_rooms_benchmark(options, log=lambda text: console.log(text))
    print_rooms_benchmark(report, console)
