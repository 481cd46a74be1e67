"""Upgrade an existing warehouse's landing tables to the columns of their DDL files.

``CREATE TABLE IF NOT EXISTS`` leaves a table an earlier release created as it was, so a column
added to its file since (the rt marts' dimension columns and ``dim_status``, say) would be
missing and every insert naming it would fail. :func:`upgrade_tables` adds each missing column
with ``ALTER TABLE ... ADD COLUMN IF NOT EXISTS``, with the file's type and default, after the
column that precedes it in the file. Nothing is dropped, renamed or retyped.

The files' columns are read by the ClickHouse engine itself, never by matching text: the DDL is
run in a scratch chDB engine and its ``system.columns`` read back
(:func:`classpulse.warehouse.scratch.declared_columns`, once per process and set of files).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from classpulse.warehouse.scratch import Column, declared_columns


def existing_columns(client, tables: Iterable[str]) -> dict[str, list[str]]:
    """The warehouse's columns of those of ``tables`` that exist (database.table -> names)."""
    names = sorted(set(tables))
    rows = client.query(
        "SELECT concat(database, '.', table), name FROM system.columns "
        "WHERE concat(database, '.', table) IN {tables:Array(String)} ORDER BY position",
        parameters={"tables": names},
    ).result_rows
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return found


def missing_column_statements(
    declared: dict[str, list[Column]], existing: dict[str, list[str]]
) -> list[str]:
    """ALTER statements adding, to each existing table, the declared columns it lacks."""
    statements = []
    for table, columns in declared.items():
        present = set(existing.get(table, ()))
        if not present:
            continue  # not there: CREATE TABLE makes it whole
        previous = None
        for column in columns:
            if column.name not in present:
                place = f" AFTER `{previous}`" if previous else " FIRST"
                statements.append(
                    f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column.definition()}{place}"
                )
            previous = column.name
    return statements


def declared_names(client, ddl: str) -> list[str]:
    """The column names a CREATE TABLE declares, from the warehouse's parser (``EXPLAIN AST``:
    one ``ColumnDeclaration <name>`` node per column); nothing is created."""
    names = []
    for (line,) in client.query(f"EXPLAIN AST {ddl}").result_rows:
        node = line.split()
        if len(node) >= 2 and node[0] == "ColumnDeclaration":
            names.append(node[1])
    return names


def upgrade_tables(client, tables: Sequence[tuple[str, str]]) -> list[str]:
    """Add to the existing ones of ``tables`` (database.table, DDL) the columns their DDL
    declares and they lack; the statements run (none when every table is up to date). The
    common case, nothing missing, is told by the warehouse's parser alone; only a table that
    lacks a column has its definitions read by the scratch engine."""
    existing = existing_columns(client, [table for table, _ in tables])
    if not existing:
        return []
    upgradable = [
        (table, ddl)
        for table, ddl in tables
        if table in existing and not set(declared_names(client, ddl)) <= set(existing[table])
    ]
    if not upgradable:
        return []
    statements = missing_column_statements(declared_columns(upgradable), existing)
    for statement in statements:
        client.command(statement)
    return statements
