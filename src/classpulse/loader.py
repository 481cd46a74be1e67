"""Land topic files into ClickHouse, exactly once.

Each landing table is one DDL file in ``clickhouse/landing/`` whose header names the
topic it is fed from::

    -- topic: timeline_analysis_student
    -- grain: one row per cleaned courseware event
    CREATE TABLE IF NOT EXISTS ods.timeline_analysis_student (...) ENGINE = ... ;

``classpulse load`` creates the tables, then inserts every complete topic file that the
ledger (``ods.load_ledger``) has not seen. A file's insert carries a deduplication token
derived from its content, and the tables keep a deduplication window, so a load that was
interrupted between the insert and the ledger row is re-run without duplicating data.

A topic whose landed files have disappeared or changed was recomputed upstream (a bounded
Flink run rebuilds its outputs from all input files). Its files then form a new generation:
they are loaded into a staging copy of the table, which replaces the live table in one
``EXCHANGE TABLES``, so readers see the old generation or the new one, never a mix.

The same DDL files generate the production feed: a Kafka-engine queue table with the
landing table's columns and a ``TO`` materialized view (:func:`kafka_ddl`).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from classpulse.config import Settings
from classpulse.topics import list_complete_files

LANDING_DIR = Path("clickhouse") / "landing"
LEDGER_DDL = """
CREATE TABLE IF NOT EXISTS ods.load_ledger
(
    topic LowCardinality(String),
    file_name String,
    file_bytes UInt64,
    content_hash FixedString(32),
    target_table LowCardinality(String),
    rows UInt64,
    loaded_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(loaded_at)
ORDER BY (topic, file_name)
"""
_HEADER = re.compile(r"^--\s*(\w+)\s*:\s*(.+?)\s*$", re.M)
_BROKERS = re.compile(r"^[A-Za-z0-9._-]+:\d+(,[A-Za-z0-9._-]+:\d+)*$")
_TABLE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w.`]+)", re.I)


class LoadError(RuntimeError):
    """A load problem with what to do about it."""


@dataclass(frozen=True)
class LandingTable:
    """One landing table: its DDL file, the topic that feeds it, and its grain."""

    path: Path
    topic: str
    table: str  # database.table
    ddl: str
    grain: str = ""

    @property
    def database(self) -> str:
        return self.table.split(".", 1)[0]


def read_landing_tables(root: Path) -> list[LandingTable]:
    """The landing tables defined under ``<root>/clickhouse/landing``, in file-name order."""
    tables = []
    for path in sorted((root / LANDING_DIR).glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        header = dict(_HEADER.findall(text.split("CREATE", 1)[0]))
        match = _TABLE.search(text)
        if "topic" not in header or match is None:
            raise LoadError(
                f"{path}: a landing DDL file needs a '-- topic: <name>' header and one "
                "CREATE TABLE statement"
            )
        ddl = text[match.start() :].strip().rstrip(";")
        tables.append(
            LandingTable(
                path, header["topic"], match.group(1).replace("`", ""), ddl, header.get("grain", "")
            )
        )
    topics = [table.topic for table in tables]
    duplicates = {topic for topic in topics if topics.count(topic) > 1}
    if duplicates:
        raise LoadError(f"topics landed by more than one DDL file: {sorted(duplicates)}")
    return tables


@dataclass
class TopicLoad:
    topic: str
    table: str
    files_seen: int = 0
    files_loaded: int = 0
    rows: int = 0
    bytes: int = 0
    seconds: float = 0.0
    generation_replaced: bool = False


@dataclass
class LoadReport:
    topics: list[TopicLoad] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(item.rows for item in self.topics)

    @property
    def files_loaded(self) -> int:
        return sum(item.files_loaded for item in self.topics)

    @property
    def seconds(self) -> float:
        return sum(item.seconds for item in self.topics)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def content_hash(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


PROVENANCE_COLUMNS = (
    ("kafka_topic", "LowCardinality(String) DEFAULT ''"),
    ("kafka_partition", "Int32 DEFAULT -1"),
    ("kafka_offset", "Int64 DEFAULT -1"),
)
"""(topic, partition, offset) of a row landed from Kafka: the landing's dedup key and what the
accounting by offsets counts (``classpulse.kafka.accounting``); defaults for rows from files."""


def create_landing_tables(client, tables: Iterable[LandingTable]) -> None:
    """Create the databases, the ledger and every landing table if missing (a table created
    before the provenance columns existed gets them)."""
    from classpulse.warehouse import create_layer_databases

    create_layer_databases(client)
    client.command(LEDGER_DDL)
    for table in tables:
        client.command(table.ddl)
        if table.path.parent.name == LANDING_DIR.name:  # the project's own DDL files
            for column, kind in PROVENANCE_COLUMNS:
                client.command(
                    f"ALTER TABLE {table.table} ADD COLUMN IF NOT EXISTS {column} {kind}"
                )


def _loaded_files(client, topic: str) -> set[str]:
    result = client.query(
        "SELECT file_name FROM ods.load_ledger FINAL WHERE topic = {topic:String}",
        parameters={"topic": topic},
    )
    return {row[0] for row in result.result_rows}


def load_topics(
    settings: Settings,
    topics_dir: Path | None = None,
    only: Iterable[str] | None = None,
    on_file: Callable[[str, Path, int], None] | None = None,
    client=None,
) -> LoadReport:
    """Land every new complete file of every landed topic; return what was loaded."""
    from classpulse.warehouse import get_client

    topics_dir = topics_dir or settings.topics_dir
    tables = read_landing_tables(settings.root)
    wanted = set(only) if only else None
    if wanted:
        unknown = wanted - {table.topic for table in tables}
        if unknown:
            raise LoadError(f"no landing table for topic(s) {sorted(unknown)}; see {LANDING_DIR}/")
        tables = [table for table in tables if table.topic in wanted]
    client = client or get_client(settings)
    create_landing_tables(client, tables)
    report = LoadReport()
    for table in tables:
        item = TopicLoad(table.topic, table.table)
        report.topics.append(item)
        files = list_complete_files(topics_dir, table.topic)
        item.files_seen = len(files)
        landed = _landed_files(client, table.topic)
        started = time.perf_counter()
        if _is_new_generation(files, landed):
            item.generation_replaced = True
            item.rows, item.files_loaded = _replace_generation(client, table, files, on_file)
        else:
            for path in files:
                if path.name in landed:
                    continue
                rows = load_file(client, table, path)
                item.files_loaded += 1
                item.rows += rows
                if on_file is not None:
                    on_file(table.topic, path, rows)
        item.seconds = time.perf_counter() - started
        item.bytes = sum(path.stat().st_size for path in files)
    return report


def _landed_files(client, topic: str) -> dict[str, tuple[int, str]]:
    result = client.query(
        "SELECT file_name, file_bytes, content_hash FROM ods.load_ledger FINAL"
        " WHERE topic = {topic:String}",
        parameters={"topic": topic},
    )
    return {name: (size, digest) for name, size, digest in result.result_rows}


def _is_new_generation(files: list[Path], landed: dict[str, tuple[int, str]]) -> bool:
    """True when files landed before are gone or changed: the topic was recomputed."""
    if not landed:
        return False
    present = {path.name: path for path in files}
    for name, (size, _digest) in landed.items():
        path = present.get(name)
        if path is None or path.stat().st_size != size:
            return True
    return False


def _replace_generation(client, table: LandingTable, files: list[Path], on_file) -> tuple[int, int]:
    """Load ``files`` into a staging copy of ``table`` and swap it in atomically."""
    staging = LandingTable(
        table.path, table.topic, table.table + "__staging", table.ddl, table.grain
    )
    client.command(f"DROP TABLE IF EXISTS {staging.table}")
    client.command(f"CREATE TABLE {staging.table} AS {table.table}")
    rows = 0
    for path in files:
        loaded = _insert_file(client, staging, path, content_hash(path))
        rows += loaded
        if on_file is not None:
            on_file(table.topic, path, loaded)
    client.command(f"EXCHANGE TABLES {table.table} AND {staging.table}")
    client.command(f"DROP TABLE IF EXISTS {staging.table}")
    # The ledger follows the swap; if this is interrupted, the next load swaps again.
    client.command(
        "DELETE FROM ods.load_ledger WHERE topic = {topic:String}",
        parameters={"topic": table.topic},
    )
    _record_files(client, table, [(path, content_hash(path), 0) for path in files])
    return rows, len(files)


def load_file(client, table: LandingTable, path: Path) -> int:
    """Insert one topic file (deduplicated by its content) and record it in the ledger."""
    digest = content_hash(path)
    rows = _insert_file(client, table, path, digest)
    _record_files(client, table, [(path, digest, rows)])
    return rows


def _record_files(client, table: LandingTable, files: list[tuple[Path, str, int]]) -> None:
    """Ledger rows, as one small JSONEachRow insert (no schema round trip per file)."""
    if not files:
        return
    lines = (
        json.dumps(
            {
                "topic": table.topic,
                "file_name": path.name,
                "file_bytes": path.stat().st_size,
                "content_hash": digest,
                "target_table": table.table,
                "rows": rows,
            }
        )
        for path, digest, rows in files
    )
    client.raw_insert("ods.load_ledger", insert_block="\n".join(lines).encode(), fmt="JSONEachRow")


def _insert_file(client, table: LandingTable, path: Path, digest: str) -> int:
    summary = client.raw_insert(
        table.table,
        insert_block=path.read_bytes(),
        fmt="JSONEachRow",
        settings={
            "insert_deduplication_token": f"{table.topic}/{path.name}/{digest}",
            "input_format_skip_unknown_fields": 1,
            "date_time_input_format": "best_effort",
        },
    )
    return int(summary.written_rows)


def kafka_ddl(
    client, table: LandingTable, broker_list: str, group: str = "classpulse"
) -> list[str]:
    """The production feed for ``table``: a Kafka queue table and a ``TO`` view.

    Columns come from the landing table itself (``system.columns``), so the DDL file is
    the one definition of both paths. MATERIALIZED/ALIAS columns are left to the target.
    """
    if not _BROKERS.match(broker_list):
        raise LoadError(f"not a Kafka broker list (host:port[,host:port...]): {broker_list!r}")
    database, name = table.table.split(".", 1)
    rows = client.query(
        "SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String}"
        " AND default_kind NOT IN ('MATERIALIZED', 'ALIAS') ORDER BY position",
        parameters={"db": database, "t": name},
    ).result_rows
    if not rows:
        raise LoadError(f"{table.table} does not exist; run `classpulse load` once to create it")
    # provenance comes from the engine's virtual columns, not from the message
    provenance = {
        "kafka_topic": "_topic",
        "kafka_partition": "_partition",
        "kafka_offset": "_offset",
    }
    payload = [(column, kind) for column, kind in rows if column not in provenance]
    columns = ",\n    ".join(f"`{column}` {kind}" for column, kind in payload)
    names = ", ".join(
        f"{provenance[column]} AS `{column}`" if column in provenance else f"`{column}`"
        for column, _ in rows
    )
    queue = f"{database}.{name}_queue"
    return [
        f"CREATE TABLE IF NOT EXISTS {queue}\n(\n    {columns}\n)\nENGINE = Kafka\nSETTINGS\n"
        f"    kafka_broker_list = '{broker_list}',\n"
        f"    kafka_topic_list = '{table.topic}',\n"
        f"    kafka_group_name = '{group}_{name}',\n"
        "    kafka_format = 'JSONEachRow',\n"
        "    kafka_handle_error_mode = 'stream',\n"
        "    kafka_num_consumers = 1",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.{name}_mv TO {table.table} AS\n"
        f"SELECT {names}\nFROM {queue}\nWHERE length(_error) = 0",
    ]
