"""The quality gate end to end: real GX, real warehouse, suites from tests/quality/suites.

:class:`GateTables` (re)creates four tables in a ``gx_test`` database with clean rows, on
which every suite of ``tests/quality/suites/gx_test/`` passes, and corrupts them on
purpose; each corruption fails the suite that guards against it, naming the expectation.
One GX run per state keeps the module fast.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from clickhouse_connect.driver.client import Client

from classpulse.cli import main
from classpulse.config import Settings
from classpulse.quality import (
    QualityError,
    QualityReport,
    SuiteFileError,
    check_suite_files,
    load_suite,
    run_quality,
)

DATABASE = "gx_test"
SUITES = Path(__file__).parent / "suites"

TABLES = {
    "attendance": (
        "lesson_id String, student_id Nullable(String), role LowCardinality(String), "
        "online_seconds UInt32, joined_at DateTime64(3, 'UTC')",
        "ORDER BY lesson_id",
    ),
    "heartbeats": ("classroom_id String, received_at DateTime('UTC')", "ORDER BY classroom_id"),
    "lesson_summary": ("lesson_id String, attendees UInt32, is_demo UInt8", "ORDER BY lesson_id"),
    "lesson_reconciliation": ("lesson_id String, expected_attendees UInt32", "ORDER BY lesson_id"),
}

# What each deliberate corruption breaks: (suite, failing expectation, text in its observed value).
CORRUPTIONS = {
    "null_key": ("gx_test.attendance", "ExpectColumnValuesToNotBeNull(student_id)", "NULL"),
    "duplicate_grain": (
        "gx_test.attendance",
        "ExpectCompoundColumnsToBeUnique(lesson_id, student_id)",
        "L9",
    ),
    "out_of_range": (
        "gx_test.attendance",
        "ExpectColumnValuesToBeBetween(online_seconds)",
        "99999",
    ),
    "outside_accepted_set": ("gx_test.attendance", "ExpectColumnValuesToBeInSet(role)", "hacker"),
    "stale_max_timestamp": ("gx_test.heartbeats", "fresh_within_2h", "latest="),
    "row_count_relation": (
        "gx_test.lesson_summary",
        "rows_match_reconciliation",
        "mart_rows=2, reconciliation_rows=3",
    ),
}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class GateTables:
    """The ``gx_test`` tables: ``reset()`` writes clean rows, ``corrupt()`` breaks them."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def reset(self) -> None:
        self.client.command(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
        for name, (columns, order_by) in TABLES.items():
            self.client.command(f"DROP TABLE IF EXISTS {DATABASE}.{name}")
            self.client.command(
                f"CREATE TABLE {DATABASE}.{name} ({columns}) ENGINE = MergeTree {order_by}"
            )
        recent = now() - dt.timedelta(minutes=5)
        self.insert(
            "attendance",
            [
                ("L1", "s1", "teacher", 3000, recent),
                ("L1", "s2", "student", 2900, recent),
                ("L1", "s3", "student", 2400, recent),
                ("L2", "s1", "teacher", 1800, recent),
                ("L2", "s4", "assistant", 1700, recent),
            ],
        )
        self.insert("heartbeats", [("c1", recent), ("c2", now() - dt.timedelta(hours=1))])
        # The demo lesson breaks every rule; the suite's `where` leaves it out.
        self.insert("lesson_summary", [("L1", 3, 0), ("L2", 2, 0), ("DEMO", 9999, 1)])
        self.insert("lesson_reconciliation", [("L1", 3), ("L2", 2)])

    def corrupt(self) -> None:
        """Every corruption of :data:`CORRUPTIONS` at once (lesson L9 is in no mart)."""
        recent = now() - dt.timedelta(minutes=1)
        self.insert(
            "attendance",
            [
                ("L9", None, "student", 60, recent),  # null_key
                ("L9", "s5", "student", 60, recent),  # duplicate_grain
                ("L9", "s5", "student", 60, recent),
                ("L9", "s6", "student", 99999, recent),  # out_of_range
                ("L9", "s7", "hacker", 60, recent),  # outside_accepted_set
            ],
        )
        self.client.command(f"TRUNCATE TABLE {DATABASE}.heartbeats")  # stale_max_timestamp
        self.insert("heartbeats", [("c1", now() - dt.timedelta(hours=3))])
        self.insert("lesson_reconciliation", [("L3", 1)])  # row_count_relation

    def insert(self, table: str, rows: list[tuple]) -> None:
        self.client.insert(f"{DATABASE}.{table}", rows)


def suite_file(directory: Path, table: str, text: str) -> Path:
    """The suite of ``gx_test.<table>`` under ``directory``, as the gate reads them: its
    ``table:`` line, then ``text``."""
    path = directory / "gx_test" / f"{table}.yml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"table: {table}\n{text}")
    return path


@pytest.fixture(scope="module")
def gate_tables(gate_client: Client) -> GateTables:
    return GateTables(gate_client)


@pytest.fixture(scope="module")
def suite_files() -> list[Path]:
    return sorted((SUITES / DATABASE).glob("*.yml"))


EXPECTED_OUTCOMES = {
    "gx_test.attendance": 6,
    "gx_test.heartbeats": 1,
    "gx_test.lesson_summary": 5,
    "gx_test.lesson_reconciliation": 2,
}


@pytest.fixture(scope="module")
def clean_report(
    gate_tables: GateTables, quality_settings: Settings, suite_files: list[Path]
) -> QualityReport:
    gate_tables.reset()
    return run_quality(quality_settings, suite_files, build_docs=True)


@pytest.fixture(scope="module")
def corrupted_report(
    clean_report: QualityReport,
    gate_tables: GateTables,
    quality_settings: Settings,
    suite_files: list[Path],
) -> QualityReport:
    gate_tables.reset()
    gate_tables.corrupt()
    try:
        return run_quality(quality_settings, suite_files, build_docs=False)
    finally:
        gate_tables.reset()


def test_clean_data_passes_every_suite(clean_report: QualityReport) -> None:
    assert {result.suite: len(result.outcomes) for result in clean_report.results} == (
        EXPECTED_OUTCOMES
    )
    failures = {
        result.suite: [(item.name, item.observed) for item in result.failed] or result.error
        for result in clean_report.results
        if not result.success
    }
    assert failures == {}
    assert clean_report.success


def test_where_filter_limits_the_batch(clean_report: QualityReport) -> None:
    # lesson_summary holds a demo row that breaks every rule; `where: is_demo = 0` drops it.
    outcomes = {item.name: item for item in clean_report.result("gx_test.lesson_summary").outcomes}
    assert outcomes["ExpectTableRowCountToEqual"].observed == "observed 2"


def test_data_docs_are_written(clean_report: QualityReport, quality_settings: Settings) -> None:
    assert clean_report.docs_index == quality_settings.home / "gx" / "data_docs" / "index.html"
    index = clean_report.docs_index.read_text(encoding="utf-8")
    for suite in EXPECTED_OUTCOMES:
        assert suite in index
    assert list((quality_settings.home / "gx" / "validations").rglob("*.json"))


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_each_corruption_fails_its_suite(corrupted_report: QualityReport, corruption: str) -> None:
    suite, expectation, observed = CORRUPTIONS[corruption]
    result = corrupted_report.result(suite)
    assert not result.success
    failed = {item.name: item.observed for item in result.failed}
    assert expectation in failed, failed
    assert observed in failed[expectation]


def test_corruptions_fail_nothing_else(corrupted_report: QualityReport) -> None:
    failed = {
        (result.suite, item.name) for result in corrupted_report.results for item in result.failed
    }
    assert failed == {(suite, name) for suite, name, _ in CORRUPTIONS.values()}
    assert corrupted_report.result("gx_test.lesson_reconciliation").success
    assert not corrupted_report.success


def test_missing_table_fails_the_suite_not_the_run(
    clean_report: QualityReport, quality_settings: Settings, tmp_path: Path
) -> None:
    missing = suite_file(
        tmp_path,
        "absent_table",
        "expectations:\n  - ExpectTableRowCountToBeBetween: {min_value: 1}\n",
    )
    present = SUITES / "gx_test" / "lesson_reconciliation.yml"
    report = run_quality(quality_settings, [missing, present], build_docs=False)
    assert not report.success
    absent = report.result("gx_test.absent_table")
    assert absent.error == "table gx_test.absent_table does not exist"
    assert report.result("gx_test.lesson_reconciliation").success


def test_broken_sql_check_fails_with_the_server_message(
    clean_report: QualityReport, quality_settings: Settings, tmp_path: Path
) -> None:
    suite = suite_file(
        tmp_path,
        "heartbeats",
        "expectations:\n"
        "  - ExpectColumnValuesToNotBeNull: {column: no_such_column}\n"
        "sql_checks:\n"
        "  - name: broken\n"
        "    description: Reads a column that does not exist.\n"
        "    sql: SELECT no_such_column FROM {batch}\n",
    )
    report = run_quality(quality_settings, [suite], build_docs=False)
    outcomes = {item.name: item for item in report.result("gx_test.heartbeats").outcomes}
    assert not outcomes["broken"].success
    assert outcomes["broken"].observed.startswith("error: Code: 47.")
    assert "no_such_column" in outcomes["ExpectColumnValuesToNotBeNull(no_such_column)"].observed


def test_a_failing_warning_is_reported_and_does_not_fail_the_suite(
    clean_report: QualityReport, quality_settings: Settings, tmp_path: Path
) -> None:
    suite = suite_file(
        tmp_path,
        "lesson_summary",
        "expectations:\n"
        "  - ExpectColumnValuesToBeBetween:"
        " {column: attendees, max_value: 0, severity: warning}\n"
        "sql_checks:\n"
        "  - name: no_lessons_at_all\n"
        "    description: Returns every lesson (as a warning).\n"
        "    severity: warning\n"
        "    sql: SELECT lesson_id FROM {batch}\n"
        "  - name: nothing_wrong\n"
        "    description: Returns nothing.\n"
        "    sql: SELECT lesson_id FROM {batch} WHERE 0\n",
    )
    report = run_quality(quality_settings, [suite], build_docs=False)
    result = report.result("gx_test.lesson_summary")
    assert report.success and result.success and result.failed == []
    assert sorted(item.name for item in result.warnings) == [
        "ExpectColumnValuesToBeBetween(attendees)",
        "no_lessons_at_all",
    ]
    # the same checks at the default severity fail the suite
    suite.write_text(
        suite.read_text().replace(", severity: warning", "").replace("    severity: warning\n", "")
    )
    result = run_quality(quality_settings, [suite], build_docs=False).result(
        "gx_test.lesson_summary"
    )
    assert not result.success and len(result.failed) == 2


def test_a_severity_outside_the_list_is_a_suite_file_error(tmp_path: Path) -> None:
    suite_file(
        tmp_path,
        "heartbeats",
        "sql_checks:\n"
        "  - name: loud\n"
        "    description: A typo in its severity.\n"
        "    severity: warn\n"
        "    sql: SELECT 1 FROM {batch} WHERE 0\n",
    )
    problems = check_suite_files(tmp_path, layers=None)
    assert any(
        "severity must be one of critical, warning" in text for text in sum(problems.values(), [])
    )


def test_progress_reports_each_suite(
    clean_report: QualityReport, quality_settings: Settings, suite_files: list[Path]
) -> None:
    calls: list[tuple[int, int, str]] = []
    run_quality(
        quality_settings,
        suite_files,
        build_docs=False,
        on_progress=lambda done, total, suite: calls.append((done, total, suite)),
    )
    assert [(done, total) for done, total, _ in calls] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert {suite for _, _, suite in calls} == set(EXPECTED_OUTCOMES)


def test_old_results_are_pruned(clean_report: QualityReport, quality_settings: Settings) -> None:
    old = quality_settings.home / "gx" / "validations" / "gx_test" / "gone" / "old.json"
    old.parent.mkdir(parents=True)
    old.write_text("{}")
    month_ago = time.time() - 31 * 86_400
    os.utime(old, (month_ago, month_ago))
    run_quality(quality_settings, [SUITES / "gx_test" / "heartbeats.yml"], build_docs=False)
    assert not old.parent.exists()
    assert list((quality_settings.home / "gx" / "validations").rglob("*.json"))


def test_unreachable_warehouse_is_a_clear_error(
    quality_settings: Settings, suite_files: list[Path]
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    nowhere = replace(quality_settings, clickhouse_port=port)
    with pytest.raises(QualityError, match="cannot reach ClickHouse at .*Connection refused"):
        run_quality(nowhere, suite_files, build_docs=False)


# ---------------------------------------------------------------- suite files, no warehouse


def test_example_suites_are_well_formed() -> None:
    assert check_suite_files(SUITES, layers=None) == {}


def test_committed_suites_are_well_formed(quality_settings: Settings) -> None:
    assert check_suite_files(quality_settings.root / "expectations") == {}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("table: [unclosed\n", "invalid YAML: line 2, column 1"),
        ("- just\n- a list\n", "expected a mapping"),
        ("table: other\nexpectations:\n  - ExpectColumnToExist: {column: a}\n", "file name"),
        ("table: t\nexpections: []\n", "unknown key(s) expections"),
        ("table: t\n", "neither expectations nor sql_checks"),
        (
            "table: t\nexpectations:\n  - ExpectColumnValuesToNotBeNul: {column: a}\n",
            "unknown expectation; did you mean ExpectColumnValuesToNotBeNull?",
        ),
        (
            "table: t\nexpectations:\n  - ExpectColumnValuesToMatchRegex: {column: a, regex: x}\n",
            "does not work over ClickHouse here",
        ),
        (
            "table: t\nexpectations:\n  - ExpectColumnValuesToBeInSet: {colum: a, value_set: [x]}\n",
            "unknown argument 'colum'",
        ),
        (
            "table: t\nexpectations:\n  - ExpectColumnValuesToBeBetween: {column: a, min_value: x}\n",
            "min_value: value is not a valid float",
        ),
        (
            "table: t\nexpectations:\n  - UnexpectedRowsExpectation: {unexpected_rows_query: x}\n",
            "under sql_checks",
        ),
        (
            "table: t\nsql_checks:\n  - {name: a, description: b, sql: SELECT 1}\n",
            "sql must read the suite's table as {batch}",
        ),
        (
            "table: t\nsql_checks:\n  - {name: a, description: b, sql: 'SELECT {x} FROM {batch}'}\n",
            "unknown placeholder(s) {x}",
        ),
        (
            "table: t\nsql_checks:\n  - {name: a, description: b, sql: 'SELECT * FROM {batch} AS t'}\n",
            "do not alias {batch}",
        ),
        ("table: t\nsql_checks:\n  - {name: a, sql: 'SELECT * FROM {batch}'}\n", "description"),
    ],
)
def test_malformed_suite_says_which_file_and_what(text: str, problem: str, tmp_path: Path) -> None:
    path = tmp_path / "ods" / "t.yml"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(SuiteFileError) as raised:
        load_suite(path)
    assert str(path) in str(raised.value)
    assert problem in str(raised.value)
    assert check_suite_files(tmp_path)[path]


def test_layout_is_checked(tmp_path: Path) -> None:
    (tmp_path / "nowhere").mkdir()
    stray = tmp_path / "nowhere" / "t.yml"
    stray.write_text("table: t\nexpectations:\n  - ExpectColumnToExist: {column: a}\n")
    (tmp_path / "ods").mkdir()
    (tmp_path / "ods" / "u.yaml").write_text("table: u\n")
    problems = check_suite_files(tmp_path)
    assert "unknown layer 'nowhere'" in problems[stray][0]
    assert problems[tmp_path / "ods" / "u.yaml"] == ["suite files end in .yml"]


def test_malformed_suite_stops_the_run_before_the_warehouse(
    quality_settings: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "gx_test" / "attendance.yml"
    bad.parent.mkdir()
    bad.write_text("table: attendance\nexpectations: {}\n")
    with pytest.raises(SuiteFileError, match="attendance.yml"):
        run_quality(replace(quality_settings, clickhouse_port=1), [bad], build_docs=False)


# ---------------------------------------------------------------- command line


@pytest.fixture
def cli(quality_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    monkeypatch.setenv("CLASSPULSE_HOME", str(quality_settings.home))
    runner = CliRunner(env={"COLUMNS": "240"})  # wide enough that no name wraps
    return lambda *args: runner.invoke(main, ["quality", *args], catch_exceptions=False)


def suite_arguments(files: list[Path]) -> list[str]:
    return [argument for path in files for argument in ("--suite", str(path))]


def test_cli_exits_0_when_every_suite_passes(
    cli, gate_tables: GateTables, suite_files: list[Path], quality_settings: Settings
) -> None:
    gate_tables.reset()
    result = cli(*suite_arguments(suite_files))
    assert result.exit_code == 0, result.output
    assert "4 suites, passed" in result.output
    assert f"Data Docs: {quality_settings.home / 'gx' / 'data_docs' / 'index.html'}" in (
        result.output.replace("\n", "")
    )


def test_cli_exits_1_and_names_the_failure(
    cli, gate_tables: GateTables, suite_files: list[Path]
) -> None:
    gate_tables.reset()
    gate_tables.insert("lesson_summary", [("L3", 100000, 0)])
    try:
        result = cli(*suite_arguments(suite_files), "--no-docs")
    finally:
        gate_tables.reset()
    assert result.exit_code == 1, result.output
    assert "ExpectColumnValuesToBeBetween(attendees)" in result.output
    assert "100000" in result.output
    assert "Data Docs" not in result.output


def test_cli_exits_2_on_a_malformed_suite(cli, tmp_path: Path) -> None:
    bad = tmp_path / "gx_test" / "attendance.yml"
    bad.parent.mkdir()
    bad.write_text("table: attendance\nexpectations:\n  - ExpectColumnToExist: {}\n")
    result = cli("--suite", str(bad))
    assert result.exit_code == 2
    assert str(bad) in result.output
    assert "missing argument 'column'" in result.output
    assert "Traceback" not in result.output


def test_cli_check_needs_no_warehouse(cli, suite_files: list[Path], monkeypatch) -> None:
    monkeypatch.setenv("CLASSPULSE_CLICKHOUSE_PORT", "1")
    result = cli("--check", *suite_arguments(suite_files))
    assert result.exit_code == 0, result.output
    assert "gx_test.lesson_summary: 3 expectations, 2 sql_checks" in result.output


def test_cli_unknown_suite_name(cli) -> None:
    result = cli("--suite", "ods/no_such_table")
    assert result.exit_code == 2
    assert "no suite file for: ods/no_such_table" in result.output
