"""A landing DDL file composed from the shared groups (clickhouse/landing/_column_groups.sql)
creates the same table as its expanded form written out by hand (landing_expanded.yml): the
same columns (types, defaults, comments, order) and the same engine, keys, TTL and settings, as
the engine reports them."""

from __future__ import annotations

from pathlib import Path

import yaml

from classpulse.config import Settings, load_settings
from classpulse.loader import read_landing_tables
from classpulse.warehouse import get_client

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
