"""An existing warehouse upgrades: a landing table an earlier release created gains the columns
its DDL file has gained since (ALTER TABLE ... ADD COLUMN IF NOT EXISTS), its rows kept."""

from __future__ import annotations

from classpulse.config import Settings, load_settings
from classpulse.loader import LandingTable, create_landing_tables, read_landing_tables
from classpulse.warehouse import get_client
from classpulse.warehouse.migrate import missing_column_statements, upgrade_tables

# the dimension columns (LIVE_CLASSROOM_CONTRACT.md C) that rt.help_request_triage_log gained
DIMENSION_COLUMNS = (
    "lesson_id", "lesson_date", "room_role", "expected_members", "tutor_id", "class_id",
    "org_node_id", "dim_run_id", "dim_status",
)  # fmt: skip


def create_table_before_dimensions(client, triage: LandingTable) -> None:
    """The table as the release before the dimension columns created it: today's table with
    those columns dropped by the engine."""
    client.command(triage.ddl)
    client.command(
        f"ALTER TABLE {triage.table} "
        + ", ".join(f"DROP COLUMN `{name}`" for name in DIMENSION_COLUMNS)
    )


def columns(client, table: str) -> list[tuple[str, str]]:
    database, name = table.split(".")
    return [
        tuple(row)
        for row in client.query(
            "SELECT name, type FROM system.columns WHERE database = {d:String} "
            "AND table = {t:String} ORDER BY position",
            parameters={"d": database, "t": name},
        ).result_rows
    ]


def test_an_old_rt_table_gains_the_new_columns_and_keeps_its_rows(warehouse: Settings) -> None:
    client = get_client(warehouse)
    (triage,) = [
        t for t in read_landing_tables(load_settings().root) if t.topic == "help_request_triage"
    ]
    client.command("CREATE DATABASE IF NOT EXISTS rt")
    client.command(f"DROP TABLE IF EXISTS {triage.table} SYNC")
    try:
        create_table_before_dimensions(client, triage)
        assert not set(DIMENSION_COLUMNS) & {name for name, _ in columns(client, triage.table)}
        client.insert(
            triage.table,
            [["r1", "help", 7, 8, "student", 1, 2, 3, 4, "auto", "media", "switch_line", 8]],
            column_names=[
                "request_id", "source", "room_id", "user_id", "role", "request_time",
                "received_time", "decided_at", "evidence_end", "outcome", "category", "action",
                "target_user_id",
            ],
        )  # fmt: skip
        create_landing_tables(client, [triage])
        client.command("DROP TABLE IF EXISTS rt.triage_fresh SYNC")
        client.command(triage.ddl.replace(triage.table, "rt.triage_fresh", 1))
        fresh = columns(client, "rt.triage_fresh")
        upgraded = columns(client, triage.table)
        # the file's columns in the file's order, provenance columns after them
        assert upgraded[: len(fresh)] == fresh
        assert {"dim_status", "lesson_id", "dim_run_id"} <= {name for name, _ in upgraded}
        rows = client.query(
            f"SELECT request_id, category, dim_status, lesson_id FROM {triage.table}"
        ).result_rows
        assert rows == [("r1", "media", "", 0)]
        # up to date: nothing more to run
        assert upgrade_tables(client, [(triage.table, triage.ddl)]) == []
    finally:
        client.command(f"DROP TABLE IF EXISTS {triage.table} SYNC")
        client.command("DROP TABLE IF EXISTS rt.triage_fresh SYNC")
        create_landing_tables(client, [triage])


def test_only_missing_columns_are_added_after_their_predecessor() -> None:
    from classpulse.warehouse.migrate import Column

    declared = {
        "ods.t": [
            Column("a", "UInt64", "", ""),
            Column("b", "String", "DEFAULT", "'x'"),
            Column("c", "Int64", "", ""),
        ],
        "ods.absent": [Column("a", "UInt64", "", "")],
    }
    assert missing_column_statements(declared, {"ods.t": ["a", "c"]}) == [
        "ALTER TABLE ods.t ADD COLUMN IF NOT EXISTS `b` String DEFAULT 'x' AFTER `a`"
    ]
    assert missing_column_statements(declared, {"ods.t": ["a", "b", "c"]}) == []
