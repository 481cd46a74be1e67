"""Option parsing shared by the command groups (a helper module, not a command group)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click


def parse_day(
    _context: click.Context, _parameter: click.Parameter, value: str | None
) -> date | None:
    """Click callback: a ``YYYY-MM-DD`` option value as a date (None stays None)."""
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from None


Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def topics_root_option() -> Decorator:
    """``--out``: where a generator writes its topic files (default: the settings')."""
    return click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Topics root (default: CLASSPULSE_TOPICS_DIR, var/topics).",
    )


def scale_option(text: str) -> Decorator:
    """``--scale``: a generator's volume multiplier (positive, default 1)."""
    return click.option(
        "--scale",
        type=click.FloatRange(min=0, min_open=True),
        default=1.0,
        show_default=True,
        help=text,
    )


def topic_files_option(text: str, required: bool = False) -> Decorator:
    """``--topics``: an existing root of topic directories to read (``topics_dir``)."""
    return click.option(
        "--topics",
        "topics_dir",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        required=required,
        help=text,
    )
