"""`classpulse demo`: the main job, from signals to the analyst report, on this machine."""

from __future__ import annotations

import os
import time
from datetime import date, timedelta

import click
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from classpulse.config import load_settings


@click.command("demo")
@click.option(
    "--scale", default=1.0, show_default=True, help="Volume: 1 is a small school, 100 a busy one."
)
@click.option("--seed", default=7, show_default=True, help="Makes the day deterministic.")
@click.option("--day", "day_text", help="Business day to simulate (default: yesterday).")
@click.option("--fresh", is_flag=True, help="Start over instead of resuming a half-finished run.")
@click.option(
    "--streaming",
    is_flag=True,
    help="Live: a paced day produced into Kafka, the continuous pipeline and the landing following.",
)
@click.option("--seconds", default=90, show_default=True, help="--streaming: how long to watch.")
def command(
    scale: float, seed: int, day_text: str | None, fresh: bool, streaming: bool, seconds: int
) -> None:
    """Generate a day of classes and run the whole pipeline on the embedded warehouse.

    Starts the embedded warehouse and a local Kafka broker, produces the day into Kafka, then
    runs the same DAG code Airflow runs (realtime_jobs: the streaming pipeline until it has
    caught up → lesson_preheat → offline_rollup → data_quality) and writes the analyst
    report. A run that stopped half-way resumes where it stopped; finished stages are not
    repeated.
    """
    settings = load_settings()
    console = Console()
    day = date.fromisoformat(day_text) if day_text else date.today() - timedelta(days=1)
    if streaming:
        from classpulse.streaming import watch_live

        watch_live(settings, day, seed, seconds, console)
        return
    # Airflow's task logs go to var/airflow/logs; the console shows the demo's own progress.
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    from classpulse.demo import DemoError, collect_summary, run_demo
    from classpulse.pipeline import StageError

    started = time.perf_counter()
    timings: dict[str, float] = {}

    def on_stage(name: str, status: str, summary) -> None:
        if status == "running":
            console.print(f"[bold cyan]▶ {name}[/bold cyan]")
        elif status == "done":
            timings[name] = summary.get("seconds", 0) if summary else 0
            console.print(f"[green]✓ {name}[/green] [dim]{_brief(summary)}[/dim]")
        else:
            console.print(f"[dim]↷ {name} {status}[/dim]")

    def on_task(task) -> None:
        mark = "[green]✓[/green]" if task.state == "success" else f"[yellow]{task.state}[/yellow]"
        label = task.task_id + (f"[{task.map_index}]" if task.map_index >= 0 else "")
        console.print(f"    {mark} {label} [dim]{task.seconds or 0:.1f}s[/dim]")

    console.print(
        Panel.fit(
            f"ClassPulse demo — day {day}, scale {scale}, seed {seed}\n"
            f"warehouse {settings.clickhouse_url}, Kafka {settings.kafka_bootstrap_servers}, "
            f"topic files {settings.topics_dir}"
        )
    )
    try:
        state = run_demo(settings, day, scale, seed, fresh, on_stage=on_stage, on_task=on_task)
        summary = collect_summary(settings)
    except (StageError, DemoError) as exc:
        raise click.ClickException(str(exc)) from None
    _print_summary(console, settings, state, summary, timings, time.perf_counter() - started)


def _brief(summary) -> str:
    if not summary:
        return ""
    keys = ("messages", "rows", "models", "tasks", "path", "url", "bootstrap", "seconds")
    return ", ".join(f"{key} {summary[key]}" for key in keys if key in summary)


def quality_verdict(state) -> str:
    """The quality gate's verdict as the report stage recorded it (the suites over the marts)."""
    report = state.done.get("report") or {}
    if "quality_passed" not in report:
        return "not run"
    if report["quality_passed"]:
        return "passed"
    failed = report.get("quality_failed") or []
    return "[red]FAILED[/red]" + (f" ({', '.join(failed)})" if failed else "")


def _print_summary(
    console: Console, settings, state, summary: dict, timings: dict, total: float
) -> None:
    table = Table(title="Messages (topic accounting)", header_style="bold cyan")
    for column in ("topic", "read", "accepted", "rejected"):
        table.add_column(column, justify="left" if column == "topic" else "right")
    for topic, read, accepted, rejected in summary["accounting"]:
        table.add_row(topic, f"{read:,}", f"{accepted:,}", f"{rejected:,}")
    console.print(table)
    reasons = (
        ", ".join(f"{reason} {count:,}" for reason, count in summary["rejected_by_reason"])
        or "none"
    )
    late = ", ".join(f"{mart} {count:,}" for mart, count in summary["late_by_mart"]) or "none"
    console.print(f"rejected by reason: {reasons}")
    console.print(f"late events (dropped by real-time windows, counted offline): {late}")
    marts = Table(title="Rows per mart", header_style="bold cyan")
    marts.add_column("mart")
    marts.add_column("rt (real-time)", justify="right")
    marts.add_column("ads (offline, complete)", justify="right")
    for name in sorted({key.split(".", 1)[1] for key in summary["mart_rows"]}):
        marts.add_row(
            name,
            f"{summary['mart_rows']['rt.' + name]:,}",
            f"{summary['mart_rows']['ads.' + name]:,}",
        )
    console.print(marts)
    ok, total_rows = summary["reconciliation_ok"]
    console.print(
        f"reconciliation: {ok}/{total_rows} mart-days ok; quality gate: {quality_verdict(state)}"
    )
    console.print(
        "timings: "
        + ", ".join(f"{name} {seconds:.0f}s" for name, seconds in timings.items())
        + f"; total {total:.0f}s"
    )
    report = state.done.get("report", {}).get("path")
    url = settings.clickhouse_url
    console.print(
        Panel.fit(
            "\n".join(
                [
                    f"Report          {report}",
                    'SQL             classpulse sql "SELECT * FROM ads.classroom_quality_daily ORDER BY bad_audio_share DESC LIMIT 10"',
                    f"Any client      {url}  (analysts: user {settings.analyst_user}, set CLASSPULSE_ANALYST_PASSWORD)",
                    "Airflow UI      make airflow",
                    "dbt docs        classpulse build --docs  (var/dbt/target/index.html)",
                    f"Data Docs       {settings.home / 'gx' / 'data_docs' / 'index.html'}",
                    "Live mode       classpulse demo --streaming",
                ]
            ),
            title="Where to look next",
        )
    )
