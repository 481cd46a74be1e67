"""Bad-input injection: the corrupted copies behind every rejection reason."""

from __future__ import annotations

import random
from typing import Any

from classpulse.generator.contract import (
    DATETIME_FIELDS,
    FUTURE_LIMIT_MS,
    NUMERIC_FIELDS,
    REQUIRED_FIELDS,
    Path_,
)
from classpulse.generator.formats import dump_json


def get_path(document: dict[str, Any], path: Path_) -> Any:
    value: Any = document
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def corrupt_malformed(rng: random.Random, line: str) -> str:
    roll = rng.random()
    if roll < 0.7:
        return line[: rng.randint(max(1, len(line) // 4), len(line) - 2)]
    if roll < 0.85:
        return "{'" + line[2:]
    return rng.choice(
        ("<html>502 Bad Gateway</html>", "ERROR connection reset by peer", '{"createTime":')
    )


def corrupt_missing(rng: random.Random, topic: str, document: dict[str, Any]) -> str:
    path = rng.choice(REQUIRED_FIELDS[topic])
    parent = get_path(document, path[:-1]) if len(path) > 1 else document
    if rng.random() < 0.8:
        del parent[path[-1]]
    else:
        parent[path[-1]] = None
    return dump_json(document)


WRONG_VALUES = ("abc", "12a", "N/A", "one", "x9")
# Not a valid 'YYYY-MM-DD HH:MM:SS' (contract: wrong_type); an empty string is left out (it could
# be read as a missing value).
BAD_DATETIMES = (
    "yesterday",
    "N/A",
    "2024-02-30 10:00:00",
    "2026-13-01 10:00:00",
    "2026-11-20 24:00:00",
    "2026-11-20",
    "2026/11/20 10:00:00",
    "2026-11-20T10:00:00",
)


def wrong_type_fields(topic: str) -> tuple[Path_, ...]:
    """The fields a wrong_type copy may break: every numeric and required datetime field."""
    return NUMERIC_FIELDS[topic] + DATETIME_FIELDS[topic]


def corrupt_wrong_type(
    rng: random.Random, topic: str, document: dict[str, Any], uncovered: list[Path_]
) -> str | None:
    """Break one field; fields no copy broke yet go first, so every field gets one."""
    present = [path for path in wrong_type_fields(topic) if get_path(document, path) is not None]
    if not present:
        return None
    fresh = [path for path in uncovered if path in present]
    path = fresh[0] if fresh else rng.choice(present)
    if path in uncovered:
        uncovered.remove(path)
    parent = get_path(document, path[:-1]) if len(path) > 1 else document
    bad = BAD_DATETIMES if path in DATETIME_FIELDS[topic] else WRONG_VALUES
    parent[path[-1]] = rng.choice(bad)
    return dump_json(document)


def corrupt_future(rng: random.Random, document: dict[str, Any], first: bool) -> str:
    created = int(document["createTime"])
    ahead = (
        FUTURE_LIMIT_MS + 1 if first else FUTURE_LIMIT_MS + 1 + int(rng.expovariate(1 / 3_600_000))
    )
    value = created + ahead
    document["data"]["timestamp"] = (
        value if isinstance(document["data"]["timestamp"], int) else str(value)
    )
    return dump_json(document)


# ---------------------------------------------------------------------------------------
# Topic handlers: order, late events, formatting, ground truth
