"""The ``classpulse`` command line.

Each command group lives in the module that owns its logic; this file only wires them.
"""

from __future__ import annotations

import sys

import click
from rich.console import Console

from classpulse import __version__

console = Console(stderr=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="classpulse")
def main() -> None:
    """ClassPulse: real-time and offline data warehouse for online classrooms.

    Configuration comes from CLASSPULSE_* environment variables (see .env.example and
    `classpulse doctor`). By default every tool talks to the embedded ClickHouse server
    on 127.0.0.1:8123; set CLASSPULSE_CLICKHOUSE_HOST/PORT/USER/PASSWORD/SECURE to use a
    real ClickHouse server instead.
    """


def _register() -> None:
    from classpulse.commands import register_all

    register_all(main)


_register()


def run() -> None:  # pragma: no cover - console entry
    try:
        main()
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow]")
        sys.exit(130)


if __name__ == "__main__":
    run()
