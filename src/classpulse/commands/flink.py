"""``classpulse flink``: list, render and run the Flink SQL jobs over Kafka; stop and status of
the streaming pipeline.

The jobs, the connector DDL and the runner live in :mod:`classpulse.flink`; this module parses
options and prints. A new metric is a new ``flink_sql/jobs/<name>.sql``: ``list`` and ``run`` pick
it up without a code change. Topic files are only an import format: ``classpulse produce
--topics DIR`` publishes them into Kafka.
"""

from __future__ import annotations

import sys

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
ENV = "kafka"  # the connector set (flink_sql/connectors/kafka.yaml)


@click.group("flink")
def command() -> None:
    """Flink SQL real-time layer: cleaning jobs and real-time marts (flink_sql/)."""


@command.command("list")
def list_jobs() -> None:
    """List the jobs (flink_sql/jobs/*.sql) with their inputs, outputs and bounded-run stage."""
    from classpulse.flink.runner import RunError, load_catalog
    from classpulse.flink.sqlfiles import SqlFileError, plan_stages

    settings = load_settings()
    try:
        catalog = load_catalog(settings.root, ENV)
    except (RunError, SqlFileError) as error:
        raise click.ClickException(str(error)) from None
    table = Table(title=f"Flink jobs ({len(catalog.jobs)}), connectors: {ENV}")
    for column in ("stage", "job", "reads", "writes", "what"):
        table.add_column(column, overflow="fold")
    for number, stage in enumerate(plan_stages(catalog.jobs), start=1):
        for job in stage:
            table.add_row(
                str(number),
                job.name,
                "\n".join(sorted(job.inputs - job.outputs)),
                "\n".join(sorted(job.outputs)),
                job.description.split(". ")[0].rstrip("."),
            )
    Console().print(table)


@command.command("render")
@var_option
def render_ddl(variables: dict[str, str]) -> None:
    """Print the Kafka connector DDL with every ${VAR} filled in (strict)."""
    from classpulse.flink.runner import RunError, render_environment
    from classpulse.flink.sqlfiles import SqlFileError
    from classpulse.flink.variables import MissingVariableError

    try:
        text = render_environment(load_settings(), ENV, variables)
    except (MissingVariableError, RunError, SqlFileError) as error:
        raise click.ClickException(str(error)) from None
    sys.stdout.write(text)


@command.command("run")
@click.argument("jobs", nargs=-1)
@click.option(
    "--bounded/--continuous",
    default=True,
    show_default=True,
    help="Read every source topic up to its end offset now and stop, or start the streaming "
    "pipeline in the background (`classpulse flink stop|status`).",
)
@click.option(
    "--parallelism",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Parallel subtasks per operator (the local mini-cluster: about the number of cores).",
)
@click.option(
    "--env",
    type=click.Choice([ENV]),
    default=ENV,
    hidden=True,
    help="Kept for compose files that pass --env kafka: Kafka is the only connector set.",
)
@var_option
def run(
    jobs: tuple[str, ...], bounded: bool, parallelism: int, env: str, variables: dict[str, str]
) -> None:
    """Run JOBS (default: all) over the Kafka topics (CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS).

    Bounded: every source is read up to its end offset at start (cleaning, then the marts that
    read its topics, as stages of one session); outputs are written exactly once. Continuous:
    the streaming pipeline, one Flink job resuming from its last checkpoint. With
    CLASSPULSE_FLINK_JOBMANAGER=host:port (and the connector jars in CLASSPULSE_FLINK_JARS) it is
    submitted to that Flink cluster instead. Topic files: `classpulse produce --topics DIR`.
    """
    run_kafka(load_settings(), jobs, bounded, parallelism, variables)


def run_kafka(
    settings, jobs: tuple[str, ...], bounded: bool, parallelism: int, variables: dict[str, str]
) -> None:  # type: ignore[no-untyped-def]
    """Bounded to the end offsets now, or the continuous job in the background."""
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
    """The stages of a run with their time and throughput."""
    out = Console()
    stages = Table(
        title=f"Flink run ({result.env}, {'bounded' if result.bounded else 'continuous'})"
    )
    for column in ("stage", "jobs", "messages in", "seconds", "msg/s"):
        stages.add_column(column, justify="right" if column != "jobs" else "left")
    for number, stage in enumerate(result.stages, start=1):
        count = stage.messages_in or 0
        rate = f"{count / stage.seconds:,.0f}" if stage.seconds and count else "-"
        stages.add_row(
            str(number), ", ".join(stage.jobs), f"{count:,}", f"{stage.seconds:.1f}", rate
        )
    out.print(stages)
    out.print(
        f"total {result.seconds:.1f} s (engine start {result.startup_seconds:.1f} s); "
        "the accounting by offsets: `classpulse status`"
    )
