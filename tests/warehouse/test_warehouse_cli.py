"""The command line: `classpulse warehouse start/status/stop/logs`, `classpulse sql`, `doctor`."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner

from classpulse.cli import main
from classpulse.warehouse import daemon

CLASSPULSE = Path(sys.executable).parent / "classpulse"


def classpulse(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CLASSPULSE), *args],
        env={**environment, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_warehouse_start_status_logs_stop(tmp_path, cli_environment, warehouse_settings):
    settings = warehouse_settings(tmp_path / "data")
    environment = cli_environment(settings)
    try:
        before = classpulse(environment, "warehouse", "status")
        assert before.returncode == 1
        assert "not running" in before.stderr

        started = classpulse(environment, "warehouse", "start")
        assert started.returncode == 0, started.stderr
        assert "warehouse running" in started.stderr
        assert str(settings.clickhouse_port) in started.stderr
        assert daemon.ping("127.0.0.1", settings.clickhouse_port)

        status = classpulse(environment, "warehouse", "status")
        assert status.returncode == 0, status.stderr
        assert "answering" in status.stderr
        assert str(settings.clickhouse_port) in status.stderr

        again = classpulse(environment, "warehouse", "start")
        assert again.returncode != 0
        assert "already running" in again.stderr

        logs = classpulse(environment, "warehouse", "logs", "-n", "50")
        assert logs.returncode == 0
        assert f"serving http://127.0.0.1:{settings.clickhouse_port}" in logs.stdout

        stopped = classpulse(environment, "warehouse", "stop")
        assert stopped.returncode == 0
        assert "stopped" in stopped.stderr
        assert not daemon.ping("127.0.0.1", settings.clickhouse_port)

        after = classpulse(environment, "warehouse", "status")
        assert after.returncode == 1
        assert "not running" in after.stderr
    finally:
        daemon.stop(settings)


@pytest.fixture
def runner(warehouse) -> CliRunner:
    """In-process CLI runs against the session's server (its CLASSPULSE_* are set)."""
    return CliRunner()


def test_sql_prints_a_table(runner):
    result = runner.invoke(
        main, ["sql", "SELECT 1 AS one, 'x' AS s, NULL AS nothing"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    header, row = (line for line in result.stdout.splitlines() if "one" in line or "│ 1" in line)
    assert "one" in header and "s" in header and "nothing" in header
    assert "1" in row and "x" in row and "NULL" in row
    assert "1 rows" in result.stdout


def test_sql_format_passes_the_bytes_through(runner):
    result = runner.invoke(
        main, ["sql", "--format", "JSONEachRow", "SELECT number AS n, 'é' AS s FROM numbers(2)"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == '{"n":0,"s":"é"}\n{"n":1,"s":"é"}\n'.encode()
    parquet = runner.invoke(main, ["sql", "--format", "Parquet", "SELECT 1 AS x"])
    assert parquet.exit_code == 0
    assert parquet.stdout_bytes.startswith(b"PAR1") and parquet.stdout_bytes.endswith(b"PAR1")


def test_sql_binds_parameters_and_reads_stdin(runner):
    result = runner.invoke(
        main,
        [
            "sql",
            "--format",
            "TSV",
            "-p",
            "room=it's r1",
            "-p",
            "n=3",
            "SELECT {room:String}, {n:UInt8} + 1",
        ],
    )
    assert result.stdout_bytes == b"it\\'s r1\t4\n"
    piped = runner.invoke(main, ["sql", "--format", "TSV", "-"], input="SELECT 6 * 7")
    assert piped.stdout_bytes == b"42\n"


def test_sql_reports_errors(runner, database):
    result = runner.invoke(main, ["sql", "SELECT * FROM no_such_table"])
    assert result.exit_code == 1
    assert "Code: 60" in result.output
    readonly = runner.invoke(
        main, ["sql", "--analyst", f"CREATE TABLE {database}.by_cli (x UInt8) ENGINE = Memory"]
    )
    assert readonly.exit_code == 1
    assert "164" in readonly.output
    analyst = runner.invoke(
        main, ["sql", "--analyst", "--format", "TSV", "SELECT getSetting('readonly')"]
    )
    assert analyst.stdout_bytes == b"1\n"


def test_doctor_lists_versions(runner, warehouse):
    result = runner.invoke(main, ["doctor"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    output = result.stdout
    assert re.search(r"Java \(for Flink\)\s+│ \d+\.\d+", output), output
    flink = re.escape(metadata.version("apache-flink"))
    assert re.search(rf"Flink \(PyFlink\)\s+│ {flink}\s", output), output
    chdb = re.escape(metadata.version("chdb"))
    assert re.search(rf"ClickHouse engine \(chDB\)\s+│ chdb {chdb} \(engine \d+\.\d+", output), (
        output
    )
    assert f"127.0.0.1:{warehouse.clickhouse_port} answers" in output


def test_sql_honours_the_querys_own_format_clause(runner):
    csv = runner.invoke(main, ["sql", "SELECT 1 FORMAT CSV"])
    assert csv.exit_code == 0, csv.output
    assert csv.stdout_bytes == b"1\n"
    same = runner.invoke(main, ["sql", "--format", "csv", "select 2 format CSV"])
    assert same.stdout_bytes == b"2\n"
    nested = runner.invoke(
        main,
        ["sql", "--format", "TSV", "SELECT 'FORMAT CSV' AS format /* FORMAT JSON */"],
    )
    assert nested.stdout_bytes == b"FORMAT CSV\n"
    clash = runner.invoke(main, ["sql", "--format", "TSV", "SELECT 1 FORMAT CSV"])
    assert clash.exit_code == 2 and "FORMAT CSV" in clash.output
