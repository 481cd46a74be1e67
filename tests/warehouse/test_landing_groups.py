"""A landing DDL file composed from the shared groups (clickhouse/landing/_column_groups.sql)
creates the same table as its expanded form written out by hand (landing_expanded.yml): the
same columns (types, defaults, comments, order) and the same engine, keys, TTL and settings, as
the engine reports them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from classpulse.config import Settings, load_settings
from classpulse.loader import LoadError, read_landing_tables
from classpulse.warehouse import get_client
from classpulse.warehouse.scratch import parse

EXPANDED = Path(__file__).with_name("landing_expanded.yml")


def described(client, database: str, table: str) -> tuple[list[tuple], tuple]:
    """The table's columns and clauses as system.columns and system.tables hold them."""
    columns = client.query(
        "SELECT name, type, default_kind, default_expression, comment, position,"
        " is_in_partition_key, is_in_sorting_key, is_in_primary_key FROM system.columns"
        " WHERE database = {d:String} AND table = {t:String} ORDER BY position",
        parameters={"d": database, "t": table},
    ).result_rows
    clauses = client.query(
        "SELECT engine, engine_full, partition_key, sorting_key, primary_key,"
        " replace(create_table_query, {qualified:String}, '') FROM system.tables"
        " WHERE database = {d:String} AND name = {t:String}",
        parameters={"d": database, "t": table, "qualified": f"{database}.{table}"},
    ).first_row
    return [tuple(row) for row in columns], tuple(clauses)


def test_composed_tables_equal_their_expanded_form(warehouse: Settings, database: str) -> None:
    client = get_client(warehouse)
    expanded = yaml.safe_load(EXPANDED.read_text(encoding="utf-8"))
    composed = {table.path.stem: table for table in read_landing_tables(load_settings().root)}
    for name, reference in expanded.items():
        table = composed[name]
        assert "-- include:" in table.path.read_text(encoding="utf-8"), name
        client.command(table.ddl.replace(table.table, f"{database}.composed", 1))
        client.command(reference.replace(table.table, f"{database}.expected", 1))
        try:
            assert described(client, database, "composed") == described(
                client, database, "expected"
            ), name
        finally:
            client.command(f"DROP TABLE {database}.composed SYNC")
            client.command(f"DROP TABLE {database}.expected SYNC")


GROUPS = (
    "-- Groups for the probes; this line says `-- include: nothing` in passing.\n"
    "-- group: who\n"
    "-- the user; a documentation line\n"
    "user_id Int64,\n"
    "-- group: storage\n"
    "ENGINE = MergeTree\n"
    "ORDER BY id\n"
)


def write_landing(root: Path, name: str, text: str) -> None:
    folder = root / "clickhouse" / "landing"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(text.encode("utf-8"))


@pytest.mark.parametrize(
    ("table_file", "expanded"),
    [
        pytest.param(
            "-- topic: t1\ncreate table ods.t (\n    id UInt8 comment 'a;\n-- include: who\nb',\n"
            "    -- include: who\n)\n-- include: storage\n",
            "CREATE TABLE ods.t (id UInt8 COMMENT 'a;\n-- include: who\nb', user_id Int64)"
            " ENGINE = MergeTree ORDER BY id",
            id="directive-inside-a-string-literal",
        ),
        pytest.param(
            "-- topic: t2\nCREATE TABLE ods.t (\n    id UInt8,\n/*\n-- include: who\n*/\n)\n"
            "-- include: storage\n",
            "CREATE TABLE ods.t (id UInt8) ENGINE = MergeTree ORDER BY id",
            id="directive-inside-a-block-comment",
        ),
        pytest.param(
            "-- topic: t3\r\nCREATE TABLE ods.t (\r\n    id UInt8, -- include: who\r\n"
            "    --   INCLUDE:who\r\n)\r\n-- Include: storage\r\n",
            "CREATE TABLE ods.t (id UInt8, user_id Int64) ENGINE = MergeTree ORDER BY id",
            id="crlf-any-case-and-a-trailing-comment-that-is-no-directive",
        ),
        pytest.param(
            "-- Topic: t4\n-- grain: one row; per id\ncreate TABLE ods.t (id UInt8,\n"
            "-- include: who\n) engine = Log; -- the end; -- include: who\n",
            "CREATE TABLE ods.t (id UInt8, user_id Int64) ENGINE = Log",
            id="header-name-case-and-comment-after-the-statement-end",
        ),
    ],
)
def test_directives_are_comment_lines_of_the_lexer(
    tmp_path: Path, table_file: str, expanded: str
) -> None:
    write_landing(tmp_path, "_column_groups.sql", GROUPS)
    write_landing(tmp_path, "t.sql", table_file)
    (table,) = read_landing_tables(tmp_path)
    (reference,) = parse([expanded])  # the expansion written out by hand, as the engine reads it
    assert not reference.error
    assert (table.table, table.ddl) == ("ods.t", reference.formatted)


def test_a_directive_in_a_multi_line_string_of_the_groups_file_is_text(tmp_path: Path) -> None:
    write_landing(
        tmp_path,
        "_column_groups.sql",
        "-- group: noted\nnote String default 'x\n-- group: fake\n-- include: noted\ny',\n",
    )
    write_landing(
        tmp_path, "t.sql", "-- topic: t\nCREATE TABLE ods.t (\n-- include: fake\n) ENGINE = Log\n"
    )
    with pytest.raises(LoadError, match="no group 'fake'"):
        read_landing_tables(tmp_path)
