"""Option parsing shared by the command groups (a helper module, not a command group)."""

from __future__ import annotations

from datetime import date, datetime

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
