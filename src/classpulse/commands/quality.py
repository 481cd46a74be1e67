"""``classpulse quality``: run the Great Expectations quality gate and print its verdict.

The suites, the GX run and the report live in :mod:`classpulse.quality`; this module picks
the suite files, shows progress on stderr and prints a summary table.
Exit codes: 0 every suite passed, 1 a suite failed, 2 the gate could not run.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from classpulse.config import Settings, load_settings

if TYPE_CHECKING:
    from classpulse.quality import QualityReport

EXIT_FAILED = 1
EXIT_ERROR = 2


class GateError(click.ClickException):
    """The gate could not run: a malformed suite, an unreachable warehouse."""

    exit_code = EXIT_ERROR


@click.command("quality")
@click.option(
    "--suite",
    "suite_names",
    multiple=True,
    metavar="LAYER/TABLE",
    help="A suite to run (ods/rejected_messages, ods.rejected_messages or a .yml path); repeatable.",
)
@click.option(
    "--layer",
    "layers",
    multiple=True,
    metavar="LAYER",
    help="Run every suite of a layer; repeatable.",
)
@click.option("--no-docs", is_flag=True, help="Skip building Data Docs.")
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Only check the suite files' shape (no warehouse needed).",
)
def command(
    suite_names: tuple[str, ...], layers: tuple[str, ...], no_docs: bool, check_only: bool
) -> None:
    """Validate the warehouse against the suites in expectations/<layer>/<table>.yml.

    Every expectation runs as SQL on ClickHouse through Great Expectations (one Checkpoint
    per run); Data Docs go to <CLASSPULSE_HOME>/gx/data_docs. Exits 1 when any suite fails,
    2 when the gate cannot run (malformed suite file, warehouse unreachable).
    """
    from classpulse import quality

    # clickhouse-connect logs failed requests itself; the report says what went wrong.
    logging.getLogger("clickhouse_connect").addHandler(logging.NullHandler())
    settings = load_settings()
    directory = settings.root / quality.SUITES_DIRECTORY
    errors = Console(stderr=True)
    try:
        paths = quality.select_suite_files(directory, suite_names, layers)
        if not paths:
            raise quality.QualityError(f"no suite files (*.yml) under {directory}")
        if check_only:
            whole_tree = not suite_names and not layers
            check_shapes(Console(), paths, directory if whole_tree else None)
            return
        with errors.status("loading Great Expectations…"):
            import great_expectations  # noqa: F401 - a few seconds, worth a word on screen
        report = run_with_progress(errors, settings, paths, build_docs=not no_docs)
    except quality.QualityError as exc:
        raise GateError(str(exc)) from None
    print_report(Console(), report)
    if not report.success:
        raise SystemExit(EXIT_FAILED)


def check_shapes(console: Console, paths: list[Path], tree: Path | None) -> None:
    """Parse the suites (and check the layout of ``tree``); SuiteFileError lists problems."""
    from classpulse.quality import SuiteFileError, check_suite_files, load_suites

    if tree is not None and (problems := check_suite_files(tree)):
        raise SuiteFileError(problems)
    suites = load_suites(paths)
    for suite in suites:
        console.print(
            f"[green]✓[/green] {suite.name}: {len(suite.expectations)} expectations, "
            f"{len(suite.sql_checks)} sql_checks",
            highlight=False,
        )


def run_with_progress(
    console: Console, settings: Settings, paths: list[Path], build_docs: bool
) -> QualityReport:
    from classpulse.quality import run_quality

    columns = (
        TextColumn("[bold]quality[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("validating", total=len(paths))

        def report(done: int, total: int, suite: str) -> None:
            progress.update(task, completed=done, total=total, description=f"validated {suite}")

        return run_quality(settings, paths, build_docs=build_docs, on_progress=report)


def print_report(console: Console, report: QualityReport) -> None:
    table = Table(title="classpulse quality", header_style="bold cyan", show_lines=True)
    table.add_column("suite")
    table.add_column("passed", justify="right")
    table.add_column("failed", justify="right")
    table.add_column("failing expectations (observed)")
    for result in report.results:
        if result.error is not None:
            table.add_row(
                f"[red]{result.suite}[/red]", "–", "–", f"[red]{escape(result.error)}[/red]"
            )
            continue
        failing = "\n".join(
            [
                f"[bold]{escape(outcome.name)}[/bold]: {escape(outcome.observed)}"
                for outcome in result.failed
            ]
            + [
                f"[yellow]warning[/yellow] {escape(outcome.name)}: {escape(outcome.observed)}"
                for outcome in result.warnings
            ]
        )
        style = "green" if result.success else "red"
        table.add_row(
            f"[{style}]{result.suite}[/{style}]",
            str(len(result.passed)),
            f"[red]{len(result.failed)}[/red]" if result.failed else "0",
            failing,
        )
    console.print(table)
    if report.docs_index is not None:
        console.print(f"Data Docs: {report.docs_index}", highlight=False)
    failed = len(report.failed)
    verdict = "[green]passed[/green]" if report.success else f"[red]{failed} failed[/red]"
    warned = sum(1 for result in report.results if result.warnings)
    if warned:
        verdict += f", [yellow]{warned} with warnings[/yellow]"
    console.print(
        f"{len(report.results)} suites, {verdict} in {report.seconds:.1f} s", highlight=False
    )
