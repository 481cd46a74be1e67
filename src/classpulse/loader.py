"""The landing tables: one DDL file each, the topic that feeds it, and the production feed DDL.

Each landing table is one DDL file in ``clickhouse/landing/`` whose header names the
topic it is fed from::

    -- topic: timeline_analysis_student
    -- grain: one row per cleaned courseware event
    CREATE TABLE IF NOT EXISTS ods.timeline_analysis_student (...) ENGINE = ... ;

The landing consumer (:mod:`classpulse.kafka.landing`, ``classpulse load``) creates the tables
with :func:`create_landing_tables` and lands the topics from Kafka, exactly once in effect.
The same DDL files generate a ClickHouse Kafka-engine feed (a queue table with the landing
table's columns and a ``TO`` materialized view, :func:`kafka_ddl`) for a ClickHouse server
that consumes Kafka itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

LANDING_DIR = Path("clickhouse") / "landing"
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


PROVENANCE_COLUMNS = (
    ("kafka_topic", "LowCardinality(String) DEFAULT ''"),
    ("kafka_partition", "Int32 DEFAULT -1"),
    ("kafka_offset", "Int64 DEFAULT -1"),
)
"""(topic, partition, offset) of a row landed from Kafka: the landing's dedup key and what the
accounting by offsets counts (``classpulse.kafka.accounting``)."""


MESSAGE_KEY = "concat(replaceOne({split}, '/', '|'), '|', toString({offset}))"
"""The one definition of ``message_key`` = ``<topic>|<partition>|<offset>`` of the source message
(docs/contract.md 1.1), as a landing table computes it (a MATERIALIZED column) from the source
split the cleaning job writes (``<topic>/<partition>``; a topic name has no ``/``) and the source
offset. No byte of it travels through Kafka or the landing; NULL while the offset is unknown.
Every landing DDL file declares it with this expression (a test holds them to it); the room
tables, whose clean topics carry the offset only inside the key, get the same value from their
cleaning jobs."""


def message_key_expression(split: str = "source_split", offset: str = "source_offset") -> str:
    """:data:`MESSAGE_KEY` over a table's source split and offset columns."""
    return MESSAGE_KEY.format(split=split, offset=offset)


KEY_COLUMNS_ADDED: dict[str, tuple[str, str, str]] = {
    "ods.topic_accounting_log": (
        "first_offset",
        "Int64 AFTER source_split",
        "(topic, source_split, first_offset)",
    ),
    "ods.mart_accounting_log": (
        "counting_since",
        "DateTime64(3, 'UTC') AFTER mart",
        "(mart, counting_since)",
    ),
}
"""Sorting-key columns added to landing tables after their first release: table -> (column, type,
new key). The run that counted an accounting row is part of its key, so the rows of two runs of a
job add up instead of replacing each other. ClickHouse extends a sorting key only with a column
added in the same ALTER and without a default expression, so a table that lacks the column gets
both at once; its rows (the runs before) get the type's zero."""


def create_landing_tables(client, tables: Iterable[LandingTable]) -> None:
    """Create the databases and every landing table if missing (a table created before the
    provenance columns or a sorting-key column existed gets them; one created by an earlier
    release gets the columns its DDL file has gained since, :mod:`classpulse.warehouse.migrate`)."""
    from classpulse.warehouse import create_layer_databases
    from classpulse.warehouse.migrate import upgrade_tables

    tables = list(tables)
    create_layer_databases(client)
    for table in tables:
        client.command(table.ddl)
        if table.path.parent.name != LANDING_DIR.name:  # not the project's own DDL files
            continue
        for column, kind in PROVENANCE_COLUMNS:
            client.command(f"ALTER TABLE {table.table} ADD COLUMN IF NOT EXISTS {column} {kind}")
        if table.table in KEY_COLUMNS_ADDED:
            column, kind, key = KEY_COLUMNS_ADDED[table.table]
            database, name = table.table.split(".", 1)
            present = client.query(
                "SELECT count() FROM system.columns"
                " WHERE database = {db:String} AND table = {t:String} AND name = {c:String}",
                parameters={"db": database, "t": name, "c": column},
            ).result_rows[0][0]
            if not present:
                client.command(
                    f"ALTER TABLE {table.table} ADD COLUMN {column} {kind}, MODIFY ORDER BY {key}"
                )
    # last, after the sorting-key columns above (those must come with their key, never here as
    # plain columns): whatever else a DDL file gained since its table was created
    own = [table for table in tables if table.path.parent.name == LANDING_DIR.name]
    upgrade_tables(client, [(table.table, table.ddl) for table in own])


def kafka_ddl(
    client, table: LandingTable, broker_list: str, group: str = "classpulse"
) -> list[str]:
    """The production feed for ``table``: a Kafka queue table and a ``TO`` view.

    Columns come from the landing table itself (``system.columns``), so the DDL file is
    the one definition of both paths. Columns with a DEFAULT, MATERIALIZED or ALIAS expression
    (``landed_at``, ``origin``, ``message_key``) are left to the target, which computes them:
    a queue column the message lacks would hand the view its type's zero value instead.
    """
    if not _BROKERS.match(broker_list):
        raise LoadError(f"not a Kafka broker list (host:port[,host:port...]): {broker_list!r}")
    database, name = table.table.split(".", 1)
    rows = client.query(
        "SELECT name, type, default_kind FROM system.columns"
        " WHERE database = {db:String} AND table = {t:String} ORDER BY position",
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
    payload = [(column, kind) for column, kind, default in rows if not default]
    present = {column for column, _, _ in rows}
    columns = ",\n    ".join(f"`{column}` {kind}" for column, kind in payload)
    names = ", ".join(
        [f"`{column}`" for column, _ in payload]
        + [
            f"{virtual} AS `{column}`"
            for column, virtual in provenance.items()
            if column in present
        ]
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
