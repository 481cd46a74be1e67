"""Landing DDL files: header rules and the shipped files' shape (no warehouse needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from classpulse.loader import LoadError, read_landing_tables

ROOT = Path(__file__).resolve().parents[2]


def write(root: Path, name: str, text: str) -> None:
    path = root / "clickhouse" / "landing" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_landing_file_names_its_topic_and_table(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.sql",
        "-- topic: t1\n-- grain: one row per x\nCREATE TABLE IF NOT EXISTS ods.a (x UInt8)\nENGINE = MergeTree ORDER BY x;\n",
    )
    (table,) = read_landing_tables(tmp_path)
    assert (table.topic, table.table, table.database, table.grain) == (
        "t1",
        "ods.a",
        "ods",
        "one row per x",
    )
    assert table.ddl.endswith("ORDER BY x")


def test_a_file_without_topic_header_is_rejected_with_its_path(tmp_path: Path) -> None:
    write(tmp_path, "b.sql", "CREATE TABLE ods.b (x UInt8) ENGINE = MergeTree ORDER BY x")
    with pytest.raises(LoadError, match="b.sql"):
        read_landing_tables(tmp_path)


def test_two_files_for_one_topic_are_rejected(tmp_path: Path) -> None:
    for name in ("c.sql", "d.sql"):
        write(
            tmp_path,
            name,
            f"-- topic: same\nCREATE TABLE ods.{name[0]} (x UInt8) ENGINE = MergeTree ORDER BY x",
        )
    with pytest.raises(LoadError, match="same"):
        read_landing_tables(tmp_path)


def test_shipped_landing_tables_deduplicate_reloads() -> None:
    for table in read_landing_tables(ROOT):
        assert "non_replicated_deduplication_window" in table.ddl, table.path
        assert table.database in {"ods", "rt"}, table.path
