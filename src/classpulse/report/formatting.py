"""How the report writes numbers, durations and labels for people."""

from __future__ import annotations

import math
from datetime import date


def is_missing(value: object) -> bool:
    """None or NaN (what an empty aggregate or a Nullable column gives)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_count(value: float | None) -> str:
    """Thousands-separated integer, or an en dash for nothing."""
    return "–" if is_missing(value) else f"{round(value):,}"


def format_number(value: float | None, digits: int = 2) -> str:
    return "–" if is_missing(value) else f"{value:,.{digits}f}"


def format_share(value: float | None) -> str:
    return "–" if is_missing(value) else f"{value * 100:.1f} %"


def format_age(seconds: int | float | None) -> str:
    """A duration for people: 45 s, 12 min, 3 h 05 min, 6 h, 2 d 4 h."""
    if seconds is None:
        return "–"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def label_tutor(tutor_id: int) -> str:
    """Tutor 0 is the preheat's "no tutor" (students placed at lesson level)."""
    return "no tutor" if int(tutor_id) == 0 else f"tutor {tutor_id}"


def label_event(event: str) -> str:
    """STUDENT_MATCH_WRONG -> Match wrong."""
    return event.removeprefix("STUDENT_").replace("_", " ").capitalize()


def note_no_data(what: str, day: date | None = None) -> str:
    return f"no data for {what}" + (f" on {day.isoformat()}" if day else "")


def rate_freshness(seconds: int | None) -> str:
    if seconds is None:
        return "muted"
    if seconds <= 3600:
        return "ok"
    return "warn" if seconds <= 24 * 3600 else "bad"
