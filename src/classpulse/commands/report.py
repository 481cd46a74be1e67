"""``classpulse report``: write the self-contained HTML report over the marts.

The queries, figures and page live in :mod:`classpulse.report`; this module parses the
options, shows progress on stderr and prints the path of the page written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from classpulse.commands.options import parse_day
from classpulse.config import Settings, load_settings

if TYPE_CHECKING:
    from classpulse.quality import QualityReport


@click.command("report")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the page (default <CLASSPULSE_HOME>/report/index.html).",
)
@click.option(
    "--day",
    callback=parse_day,
    metavar="YYYY-MM-DD",
    help="Business day to report on (default: the latest day in the marts).",
)
@click.option(
    "--quality",
    "run_gate",
    is_flag=True,
    help="Run the Great Expectations gate first and include its verdict.",
)
@click.option("--open", "open_page", is_flag=True, help="Open the page in a browser.")
def command(out: Path | None, day: date | None, run_gate: bool, open_page: bool) -> None:
    """Write the analysts' report: one self-contained HTML page (figures inlined).

    Sections: headline numbers, AV quality, classroom engagement, registrations by hour
    and level, consultant follow-ups, data quality and reconciliation, freshness. Every
    number comes from the marts on the configured ClickHouse (CLASSPULSE_CLICKHOUSE_*).
    """
    from classpulse.report import ReportError, write_report

    logging.getLogger("clickhouse_connect").addHandler(logging.NullHandler())
    settings = load_settings()
    errors = Console(stderr=True)
    with errors.status("report: starting") as spinner:
        quality = run_quality_gate(settings, spinner.update) if run_gate else None
        try:
            path = write_report(
                settings,
                out,
                day=day,
                quality=quality,
                on_progress=lambda message: spinner.update(f"report: {message}"),
            )
        except ReportError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(str(path.resolve()))
    if open_page:
        click.launch(str(path.resolve()))


def run_quality_gate(settings: Settings, say: Callable[[str], object]) -> QualityReport:
    """Run every suite (no Data Docs) for the report's data-quality section."""
    from classpulse.quality import QualityError, run_quality

    say("quality: loading Great Expectations")
    try:
        return run_quality(
            settings,
            build_docs=False,
            on_progress=lambda done, total, suite: say(f"quality: {done}/{total} {suite}"),
        )
    except QualityError as exc:
        raise click.ClickException(f"the quality gate could not run: {exc}") from None
