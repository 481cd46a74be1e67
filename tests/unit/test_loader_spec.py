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


def test_a_file_is_read_by_the_engine_in_any_keyword_case(tmp_path: Path) -> None:
    write(
        tmp_path,
        "lower.sql",
        "-- topic: t2\ncreate table if not exists `ods`.`lower case` (x UInt8)\n"
        "engine = MergeTree order by x -- the sorting key; CREATE TABLE ods.decoy\n",
    )
    (table,) = read_landing_tables(tmp_path)
    assert table.table == "ods.lower case"
    assert table.ddl.startswith("CREATE TABLE IF NOT EXISTS ods.`lower case`")
    assert "decoy" not in table.ddl


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE VIEW ods.v AS SELECT 1",
        "CREATE TABLE no_database (x UInt8) ENGINE = Memory",
        "CREATE TABLE ods.a (x UInt8) ENGINE = Memory; CREATE TABLE ods.b (x UInt8) ENGINE = Memory",
        "-- CREATE TABLE ods.commented (x UInt8) ENGINE = Memory",
        "CREATE TABLE ods.broken (x UInt8 ENGINE = Memory",
    ],
)
def test_a_file_must_hold_one_create_table_of_a_database(tmp_path: Path, statement: str) -> None:
    write(tmp_path, "x.sql", f"-- topic: t3\n{statement}\n")
    with pytest.raises(LoadError, match="x.sql"):
        read_landing_tables(tmp_path)


def test_groups_are_composed_where_a_file_includes_them(tmp_path: Path) -> None:
    write(
        tmp_path,
        "_column_groups.sql",
        "-- shared\n\n-- group: who\n-- the user\nuser_id Int64,\n-- include: when\n\n"
        "-- group: when\nat DateTime,\n\n-- group: storage\nENGINE = MergeTree\nORDER BY at\n",
    )
    write(
        tmp_path,
        "t.sql",
        "-- topic: t4\nCREATE TABLE ods.t\n(\n    id UInt8,\n    -- include: who, message_key\n"
        "    source_split String,\n    source_offset Nullable(Int64),\n)\n-- include: storage\n",
    )
    (table,) = read_landing_tables(tmp_path)  # the groups file is not a table
    assert [line.strip() for line in table.ddl.splitlines()[2:7]] == [
        "`id` UInt8,",
        "`user_id` Int64,",
        "`at` DateTime,",
        "`message_key` Nullable(String) MATERIALIZED concat(replaceOne(source_split, '/', '|'),"
        " '|', toString(source_offset)) COMMENT '<topic>|<partition>|<offset> of the source"
        " message (contract 1.1); NULL while its offset is unknown',",
        "`source_split` String,",
    ]
    assert table.ddl.endswith("ENGINE = MergeTree\nORDER BY at")


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ("-- group: a\nx UInt8,\n", "no group 'b'"),
        ("-- group: b\n-- include: b\n", "includes itself"),
        ("x UInt8,\n-- group: b\ny UInt8,\n", "before the first"),
        ("-- group: b\ny UInt8,\n-- group: b\n", "not a new group name"),
    ],
)
def test_group_mistakes_are_errors(tmp_path: Path, groups: str, message: str) -> None:
    write(tmp_path, "_column_groups.sql", groups)
    write(tmp_path, "t.sql", "-- topic: t5\nCREATE TABLE ods.t (\n-- include: b\n) ENGINE = Log\n")
    with pytest.raises(LoadError, match=message):
        read_landing_tables(tmp_path)


def test_shipped_files_include_only_groups_that_exist() -> None:
    tables = read_landing_tables(ROOT)
    assert len(tables) == len(list((ROOT / "clickhouse" / "landing").glob("[!_]*.sql")))
    assert all("include" not in table.ddl for table in tables)


def test_the_provenance_columns_added_later_are_those_of_the_group() -> None:
    from classpulse.loader import GROUPS_FILE, LANDING_DIR, PROVENANCE_COLUMNS, read_groups
    from classpulse.warehouse.scratch import declared_columns

    group = "\n".join(read_groups(ROOT / LANDING_DIR / GROUPS_FILE)["kafka_provenance"])
    added = ", ".join(f"{name} {kind}" for name, kind in PROVENANCE_COLUMNS)
    declared = declared_columns(
        [
            ("ods.group", f"CREATE TABLE ods.group ({group}) ENGINE = Memory"),
            ("ods.added", f"CREATE TABLE ods.added ({added}) ENGINE = Memory"),
        ]
    )
    assert declared["ods.group"] == declared["ods.added"]
    assert [column.name for column in declared["ods.group"]] == [
        name for name, _ in PROVENANCE_COLUMNS
    ]
