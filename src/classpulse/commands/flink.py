"""``classpulse flink``: list, render and run the Flink SQL jobs.

The jobs, the connector DDL and the runner live in :mod:`classpulse.flink`; this module parses
options and prints. A new metric is a new ``flink_sql/jobs/<name>.sql``: ``list`` and ``run`` pick
it up without a code change.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from classpulse.config import load_settings

console = Console(stderr=True)


def parse_vars(_context: click.Context, _parameter: click.Parameter, value: tuple[str, ...]):
    from classpulse.flink.variables import parse_assignments

    try:
        return parse_assignments(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


var_option = click.option(
    "--var",
    "variables",
    multiple=True,
    callback=parse_vars,
    metavar="NAME=VALUE",
    help="Set a ${NAME} of the SQL files (else CLASSPULSE_<NAME>, else its default).",
)
env_option = click.option(
    "--env",
    type=click.Choice(["local", "kafka"]),
    default="local",
    show_default=True,
    help="Connector environment: local topic directories or Kafka.",
)


@click.group("flink")
def command() -> None:
    """Flink SQL real-time layer: cleaning jobs and real-time marts (flink_sql/)."""


@command.command("list")
@env_option
def list_jobs(env: str) -> None:
    """List the jobs (flink_sql/jobs/*.sql) with their inputs, outputs and wave."""
    from classpulse.flink.runner import RunError, load_catalog
    from classpulse.flink.sqlfiles import SqlFileError, plan_waves

    settings = load_settings()
    try:
        catalog = load_catalog(settings.root, env)
    except (RunError, SqlFileError) as error:
        raise click.ClickException(str(error)) from None
    table = Table(title=f"Flink jobs ({len(catalog.jobs)}), connectors: {env}")
    for column in ("wave", "job", "reads", "writes", "what"):
        table.add_column(column, overflow="fold")
    for number, wave in enumerate(plan_waves(catalog.jobs), start=1):
        for job in wave:
            table.add_row(
                str(number),
                job.name,
                "\n".join(sorted(job.inputs - job.outputs)),
                "\n".join(sorted(job.outputs)),
                job.description.split(". ")[0].rstrip("."),
            )
    Console().print(table)


@command.command("render")
@env_option
@var_option
def render_ddl(env: str, variables: dict[str, str]) -> None:
    """Print the connector DDL of an environment with every ${VAR} filled in (strict)."""
    from classpulse.flink.runner import RunError, render_environment
    from classpulse.flink.sqlfiles import SqlFileError
    from classpulse.flink.variables import MissingVariableError

    try:
        text = render_environment(load_settings(), env, variables)
    except (MissingVariableError, RunError, SqlFileError) as error:
        raise click.ClickException(str(error)) from None
    sys.stdout.write(text)


@command.command("run")
@click.argument("jobs", nargs=-1)
@env_option
@click.option(
    "--bounded/--continuous",
    default=True,
    show_default=True,
    help="Read the files present and stop, or keep watching the topics (Ctrl-C stops).",
)
@click.option(
    "--topics",
    "topics_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Topics root for --env local (default: CLASSPULSE_TOPICS_DIR, var/topics).",
)
@click.option(
    "--parallelism",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Parallel subtasks per operator (the local mini-cluster: about the number of cores).",
)
@click.option(
    "--monitor-interval",
    default="1 s",
    show_default=True,
    help="--continuous: how often the file sources look for new files.",
)
@var_option
def run(
    jobs: tuple[str, ...],
    env: str,
    bounded: bool,
    topics_dir: Path | None,
    parallelism: int,
    monitor_interval: str,
    variables: dict[str, str],
) -> None:
    """Run JOBS (default: all) on one local Flink mini-cluster.

    Bounded: each wave (cleaning, then marts) is one Flink job over the files present; the
    output topics of the selected jobs are recomputed. Continuous: one Flink job whose sources
    watch the topic directories and whose file sinks commit on every checkpoint; Ctrl-C stops it
    with a savepoint. With CLASSPULSE_FLINK_JOBMANAGER=host:port (and the connector jars in
    CLASSPULSE_FLINK_JARS) a continuous run is submitted to that Flink cluster instead.
    """
    from classpulse.flink.runner import RunError, RunOptions, run_jobs
    from classpulse.flink.sqlfiles import SqlFileError
    from classpulse.flink.variables import MissingVariableError

    settings = load_settings()
    if env == "kafka":
        run_kafka(settings, jobs, bounded, parallelism, variables)
        return
    options = RunOptions(
        env=env,
        bounded=bounded,
        jobs=jobs,
        topics_dir=topics_dir,
        variables=variables,
        parallelism=parallelism,
        monitor_interval=monitor_interval,
    )
    try:
        result = run_jobs(options, settings, console=console)
    except (MissingVariableError, RunError, SqlFileError) as error:
        raise click.ClickException(str(error)) from None
    except KeyboardInterrupt:
        console.print("[yellow]stopped[/yellow]")
        return
    print_run(result)
    if result.accounting is not None and not result.accounting.holds:
        raise click.ClickException("an accounting identity does not hold (see above)")


def run_kafka(
    settings, jobs: tuple[str, ...], bounded: bool, parallelism: int, variables: dict[str, str]
) -> None:  # type: ignore[no-untyped-def]
    """--env kafka: bounded to the end offsets now, or the continuous job in the background."""
    from classpulse.flink import pipeline
    from classpulse.flink.runner import RunError
    from classpulse.flink.sqlfiles import SqlFileError
    from classpulse.flink.variables import MissingVariableError

    try:
        if bounded:
            print_run(
                pipeline.run_bounded(
                    settings,
                    jobs=jobs,
                    variables=variables,
                    parallelism=parallelism,
                    console=console,
                )
            )
            return
        if jobs:
            raise click.ClickException("the continuous pipeline runs every job; drop JOBS")
        print_status(pipeline.start(settings, variables=variables, parallelism=parallelism))
    except (MissingVariableError, RunError, SqlFileError, pipeline.PipelineError) as error:
        raise click.ClickException(str(error)) from None


def print_status(state) -> None:  # type: ignore[no-untyped-def]
    out = Console()
    if not state.running:
        out.print(f"pipeline ({state.mode}): [yellow]not running[/yellow]")
        return
    out.print(
        f"pipeline ({state.mode}): [green]running[/green] job {state.job_id} "
        f"({state.state or '?'}), pid {state.pid or '-'}, run {state.run_id or '-'}"
    )
    if state.restored_from:
        out.print(f"  restored from {state.restored_from}")
    if state.last_checkpoint:
        out.print(f"  last checkpoint {state.last_checkpoint}")
    if state.log:
        out.print(f"  log {state.log}")


@command.command("stop")
@click.option(
    "--kill",
    "hard",
    is_flag=True,
    help="No savepoint: the next start resumes from the last checkpoint.",
)
@click.option("--timeout", type=float, default=180.0, show_default=True)
def stop_pipeline(hard: bool, timeout: float) -> None:
    """Stop the continuous Kafka pipeline (with a savepoint unless --kill)."""
    from classpulse.flink import pipeline

    print_status(pipeline.stop(load_settings(), savepoint=not hard, timeout=timeout))


@command.command("status")
@click.option("--lag/--no-lag", default=True, show_default=True, help="Consumer lag by offsets.")
def status_pipeline(lag: bool) -> None:
    """Whether the continuous Kafka pipeline runs, its job and checkpoint, and its lag."""
    from classpulse.flink import pipeline

    settings = load_settings()
    try:
        print_status(pipeline.status(settings))
        if lag:
            current = pipeline.lag(settings)
            table = Table(title=f"consumer lag (group {current.group})")
            table.add_column("topic")
            table.add_column("end", justify="right")
            table.add_column("committed", justify="right")
            table.add_column("lag", justify="right")
            for topic in current.topics:
                table.add_row(
                    topic.topic, f"{topic.end:,}", f"{topic.committed:,}", f"{topic.lag:,}"
                )
            Console().print(table)
    except pipeline.PipelineError as error:
        raise click.ClickException(str(error)) from None


def print_run(result) -> None:  # type: ignore[no-untyped-def]
    """Waves with their time and throughput, then the accounting identities."""
    out = Console()
    waves = Table(
        title=f"Flink run ({result.env}, {'bounded' if result.bounded else 'continuous'})"
    )
    for column in ("wave", "jobs", "messages in", "seconds", "msg/s"):
        waves.add_column(column, justify="right" if column != "jobs" else "left")
    for number, wave in enumerate(result.waves, start=1):
        count = wave.messages_in or 0
        rate = f"{count / wave.seconds:,.0f}" if wave.seconds and count else "-"
        waves.add_row(str(number), ", ".join(wave.jobs), f"{count:,}", f"{wave.seconds:.1f}", rate)
    out.print(waves)
    out.print(
        f"total {result.seconds:.1f} s (engine start {result.startup_seconds:.1f} s); "
        f"recomputed: {', '.join(result.cleared) or '-'}"
        + (f"; appended to: {', '.join(result.appended)}" if result.appended else "")
    )
    accounting = result.accounting
    if accounting is None:
        return
    topics = Table(title="source topics: read = accepted + rejected (= lines in the files)")
    reasons = ("malformed_json", "missing_field", "wrong_type", "future_timestamp")
    headers = (
        "topic",
        "read",
        "accepted",
        "rejected",
        "malformed",
        "missing",
        "type",
        "future",
        "",
    )
    for column in headers:
        topics.add_column(column, justify="left" if column == "topic" else "right")
    for item in accounting.topics:
        by_reason = accounting.rejected_by_reason.get(item.topic, {})
        topics.add_row(
            item.topic,
            f"{item.messages_read:,}",
            f"{item.accepted:,}",
            f"{item.rejected:,}",
            *(f"{by_reason.get(reason, 0):,}" for reason in reasons),
            "[green]ok" if item.holds else "[red]MISMATCH",
        )
    out.print(topics)
    marts = Table(title="real-time marts: counted + late = events in")
    for column in ("mart", "events in", "counted", "late", "late rows", "mart event_count", ""):
        marts.add_column(column, justify="left" if column == "mart" else "right")
    for mart in accounting.marts:
        marts.add_row(
            mart.mart,
            f"{mart.events_in:,}",
            f"{mart.events_counted:,}",
            f"{mart.events_late:,}",
            f"{mart.late_rows:,}",
            "-" if mart.mart_event_count is None else f"{mart.mart_event_count:,}",
            "[green]ok" if mart.holds else "[red]MISMATCH",
        )
    out.print(marts)
