"""Business thresholds, read from their one home: the ``vars`` of dbt_project/dbt_project.yml.

dbt models read them with ``var('<name>')``; Python reads them here; Flink jobs get them as
``${VARIABLES}`` whose defaults (:mod:`classpulse.flink.variables`) come from here. A value is
written once, in dbt_project.yml; ``tests/unit/test_one_home.py`` fails when a copy of one
appears anywhere else.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

DBT_PROJECT_FILE = Path(__file__).resolve().parents[2] / "dbt_project" / "dbt_project.yml"

# The vars that are business rules (the others, run_date and the time zone, are run settings).
RECORDED_COURSE_LOOKBACK_MS = "enter_time_lookback_ms"
BAD_AUDIO_LOST = "bad_audio_lost"
BAD_VIDEO_FR = "bad_video_fr"
RULE_VARS: tuple[str, ...] = (RECORDED_COURSE_LOOKBACK_MS, BAD_AUDIO_LOST, BAD_VIDEO_FR)


@cache
def dbt_vars(path: Path = DBT_PROJECT_FILE) -> dict[str, Any]:
    """The ``vars`` mapping of dbt_project.yml as written (Jinja left unrendered)."""
    with path.open(encoding="utf-8") as handle:
        project = yaml.safe_load(handle)
    return dict(project.get("vars") or {})


def rule_value(name: str) -> int:
    """An integer business threshold declared in dbt_project.yml ``vars``."""
    value = dbt_vars().get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise LookupError(f"dbt_project.yml vars: {name} must be declared as an integer")
    return value


def recorded_course_lookback_ms() -> int:
    """recorded_course_enter_time's look-back (contract: 3 h), in milliseconds."""
    return rule_value(RECORDED_COURSE_LOOKBACK_MS)


def recorded_course_lookback_interval() -> str:
    """The look-back as a Flink ``DAY TO SECOND`` literal, ``'days hh:mm:ss'``."""
    seconds = recorded_course_lookback_ms() // 1000
    days, seconds = divmod(seconds, 86_400)
    hours, seconds = divmod(seconds, 3_600)
    minutes, seconds = divmod(seconds, 60)
    return f"{days} {hours:02d}:{minutes:02d}:{seconds:02d}"


def bad_audio_lost() -> int:
    """A student's audio reading is bad when ``lost`` is at least this."""
    return rule_value(BAD_AUDIO_LOST)


def bad_video_fr() -> int:
    """A student's video reading is bad when ``0 <= fr`` and ``fr`` is below this."""
    return rule_value(BAD_VIDEO_FR)
