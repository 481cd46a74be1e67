"""Strict ``${VAR}`` substitution for connector DDL and job files.

A placeholder is ``${NAME}`` with NAME in upper case. Values come from, in order: explicit
overrides (``--var NAME=VALUE``), the environment variable ``CLASSPULSE_<NAME>``, then the
defaults below. Only tuning knobs have defaults; endpoints never do, so a Kafka run without
``CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS`` fails with a message naming it instead of connecting to
an empty string.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from classpulse import business_rules

PREFIX = "CLASSPULSE_"
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")

# name -> (default, what it is); endpoints have none.
DEFAULTS: dict[str, tuple[str, str]] = {
    "WATERMARK_DELAY_SECONDS": (
        "10",
        "Allowed event-time disorder before an event counts as late (windowed marts).",
    ),
    "LABEL_WATERMARK_DELAY_SECONDS": (
        "4",
        "Allowed event-time disorder of the live-classroom label and triage jobs (contract 0).",
    ),
    "RECORDED_COURSE_LOOKBACK": (
        business_rules.recorded_course_lookback_interval(),
        "How far back recorded_course_enter_time looks for a session's first event, as a "
        "'days hh:mm:ss' interval (3 h); the runner fills it from the setting "
        "CLASSPULSE_RECORDED_COURSE_LOOKBACK, which dbt reads too.",
    ),
    "PRESENCE_TIMEOUT_SECONDS": (
        "30",
        "Room presence time-out T = missed beats x heartbeat interval (3 x 10 s), in seconds; "
        "at most 60 (room_concurrency_1min lets a beat reach into the next minute only).",
    ),
    "PRESENCE_BUCKETS": (
        "64",
        "Room presence: a room's users are partitioned by uid mod this (mart_room_presence_"
        "sessions), so one 60k-user room spreads over every subtask with ~940 users a key.",
    ),
    "WATERMARK_IDLE_TIMEOUT": (
        "30 s",
        "Kafka: a partition with no record for this long stops holding back the watermark; "
        "keep it well above the checkpoint interval (intermediate topics are written in "
        "transactions committed on checkpoints, so their records arrive in bursts).",
    ),
    "LABEL_WATERMARK_IDLE_TIMEOUT": (
        "30 s",
        "Kafka: the same for the live-classroom union (label and triage jobs), contract A.2.",
    ),
    "KAFKA_TRANSACTION_TIMEOUT_MS": (
        "900000",
        "Kafka exactly-once sinks: transaction timeout (15 min), above the checkpoint interval "
        "plus a restart; at most the broker's transaction.max.timeout.ms (1 h).",
    ),
    # Throughput knobs of the Kafka clients inside the Flink jobs (``classpulse bench realtime``
    # measures them; override with CLASSPULSE_<NAME> or --var). Why these defaults:
    "KAFKA_FETCH_PARTITION_BYTES": (
        "8388608",
        "Kafka sources: max.partition.fetch.bytes (8 MB). The client's 1 MB means a fetch round "
        "trip per ~3k messages per partition; at 150k msg/s a fetch then carries ~0.1 s of one "
        "partition's traffic instead of ~20 ms, at 8 MB of buffer per partition read.",
    ),
    "KAFKA_PRODUCER_LINGER_MS": (
        "20",
        "Kafka exactly-once sinks: linger.ms (20 ms; the client's default is 5). Records become "
        "visible only when the checkpoint commits the transaction (seconds), so waiting 20 ms "
        "to fill a batch adds no visible latency and makes fewer, larger produce requests.",
    ),
    "KAFKA_PRODUCER_BATCH_BYTES": (
        "1048576",
        "Kafka exactly-once sinks: batch.size (1 MB; the client's default is 16 KB, ~50 cleaned "
        "rows): one produce request per partition per linger when behind, not one per 16 KB.",
    ),
    "KAFKA_PRODUCER_COMPRESSION": (
        "none",
        "Kafka exactly-once sinks: compression.type (none). The broker runs on the same cores "
        "as the jobs: compressing (and decompressing in the marts' sources) costs CPU the "
        "pipeline needs, against bytes a local broker writes to its page cache; lz4 did not "
        "win side by side (bench sustained, loaded machine). A remote cluster may want lz4.",
    ),
    "KAFKA_CLIENT_METRICS": (
        "true",
        "Kafka sources and sinks: whether the Kafka clients' own metrics (a hundred or more per "
        "consumer and producer) are registered in Flink's metric system (docs/architecture.md).",
    ),
    "KAFKA_ROW_FORMAT": (
        "classpulse-json",
        "Value format of every Kafka table but the raw sources: classpulse-json (jvm/udf), the "
        "bytes of Flink's json format written without a node tree per row and read with a "
        "streaming parser; json runs Flink's own, for a side-by-side measurement.",
    ),
    # The dimension lookups (connectors dim_*) reach the warehouse with the settings of the same
    # names (config.py, same defaults): a job without a warehouse still runs, its rows marked
    # dim_status = lookup_timeout (LIVE_CLASSROOM_CONTRACT.md C).
    "CLICKHOUSE_HOST": ("127.0.0.1", "Warehouse HTTP host of the dimension lookups."),
    "CLICKHOUSE_PORT": ("8123", "Warehouse HTTP port of the dimension lookups."),
    "CLICKHOUSE_USER": ("default", "Warehouse user of the dimension lookups."),
    "CLICKHOUSE_PASSWORD": ("", "Warehouse password of the dimension lookups."),
    "DIM_LOOKUP_TIMEOUT": (
        "500 ms",
        "A dimension lookup unanswered this long is retried once, then lookup_timeout (C).",
    ),
    "KAFKA_GROUP_ID": ("classpulse-flink", "Kafka consumer group of the Flink jobs."),
    "KAFKA_TRANSACTIONAL_ID_PREFIX": (
        "classpulse-flink",
        "Prefix of the Kafka transactional ids of the exactly-once sinks.",
    ),
}
DOCUMENTED: dict[str, str] = {
    "KAFKA_BOOTSTRAP_SERVERS": "Kafka brokers, host:port[,host:port]; no default.",
    **{name: text for name, (_, text) in DEFAULTS.items()},
}


class MissingVariableError(KeyError):
    """One or more ``${VAR}`` placeholders have no value."""

    def __init__(self, names: Iterable[str], where: str) -> None:
        self.names = sorted(set(names))
        self.where = where
        super().__init__(self.names)

    def __str__(self) -> str:
        listed = ", ".join(f"${{{name}}}" for name in self.names)
        hints = ", ".join(f"{PREFIX}{name}" for name in self.names)
        return f"{self.where}: no value for {listed} (set {hints} or pass --var NAME=VALUE)"


@dataclass(frozen=True)
class Variables:
    """Resolved variable values: explicit overrides, then CLASSPULSE_* environment, then defaults."""

    overrides: Mapping[str, str]
    environ: Mapping[str, str]

    def lookup(self, name: str) -> str | None:
        if name in self.overrides:
            return self.overrides[name]
        if PREFIX + name in self.environ:
            return self.environ[PREFIX + name]
        if name in DEFAULTS:
            return DEFAULTS[name][0]
        return None


def resolve_variables(
    overrides: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> Variables:
    """Variables backed by ``overrides`` and the process environment (or ``environ``)."""
    return Variables(dict(overrides or {}), dict(os.environ if environ is None else environ))


def placeholders(text: str) -> list[str]:
    """The placeholder names used in ``text``, in order of first use."""
    seen: dict[str, None] = {}
    for name in _PLACEHOLDER.findall(text):
        seen.setdefault(name, None)
    return list(seen)


def render(text: str, variables: Variables, where: str) -> str:
    """Replace every ``${NAME}``; a missing or malformed name raises, naming it and ``where``."""
    bad = [name for name in placeholders(text) if not _NAME.match(name)]
    if bad:
        raise ValueError(f"{where}: malformed placeholder(s) {['${' + b + '}' for b in bad]}")
    missing = [name for name in placeholders(text) if variables.lookup(name) is None]
    if missing:
        raise MissingVariableError(missing, where)
    return _PLACEHOLDER.sub(lambda match: str(variables.lookup(match.group(1))), text)


def parse_assignments(pairs: Iterable[str]) -> dict[str, str]:
    """``["NAME=VALUE", ...]`` (from ``--var``) as a mapping; the name must be upper case."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        name = name.strip()
        if not separator or not _NAME.match(name):
            raise ValueError(f"--var expects NAME=VALUE with an upper-case NAME, got {pair!r}")
        values[name] = value
    return values
