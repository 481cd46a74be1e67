"""The DAG folder: parses cleanly, every DAG is documented and owned, nothing runs at parse time.

Parsing happens in a subprocess with a fresh Airflow home, the warehouse unreachable
(``CLASSPULSE_CLICKHOUSE_HOST`` a blackhole address, the port one nothing listens on) and
every socket connection and project-file open recorded: a DAG file that touched the
warehouse, the network or the project's files while being parsed is caught, not only slow.
The AST check forbids the calls that would do it in the first place.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from classpulse import dbt

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
PROJECT_ROOT = DAGS_FOLDER.parent
DAG_FILES = sorted(DAGS_FOLDER.glob("*.py"))
EXPECTED_DAGS = {
    "lesson_preheat",
    "lesson_preheat_changes",
    "offline_rollup",
    "realtime_jobs",
    "data_quality",
}
# Calls that reach settings, the warehouse, files or the network; only task bodies may.
FORBIDDEN_CALLS = {
    "load_settings",
    "get_client",
    "connect",
    "urlopen",
    "open",
    "read_text",
    "query",
    "command",
    "Variable",
    "get_connection",
}
PARSE_SCRIPT = textwrap.dedent(
    """
    import builtins, io, json, os, socket, sys
    project, dags = sys.argv[1], sys.argv[2]
    connects, opened = [], []
    real_connect, real_open = socket.socket.connect, builtins.open

    def connect(self, address):
        connects.append(repr(address))
        raise OSError("network access while parsing DAGs")

    def open_(file, *args, **kwargs):
        path = os.path.abspath(str(file)) if isinstance(file, (str, os.PathLike)) else ""
        if path.startswith(project) and not path.startswith(dags) and "/.venv/" not in path:
            opened.append(path)
        return real_open(file, *args, **kwargs)

    import airflow  # configuration first: it may read airflow.cfg under AIRFLOW_HOME
    from airflow.dag_processing.dagbag import DagBag

    socket.socket.connect, builtins.open, io.open = connect, open_, open_
    bag = DagBag(dag_folder=dags)
    socket.socket.connect, builtins.open, io.open = real_connect, real_open, real_open
    dags_out = {}
    for dag_id, dag in bag.dags.items():
        dags_out[dag_id] = {
            "file": os.path.basename(dag.fileloc),
            "tags": sorted(dag.tags),
            "owner": dag.owner,
            "doc_md": dag.doc_md or "",
            "catchup": dag.catchup,
            "timetable": type(dag.timetable).__name__,
            "tasks": {
                task.task_id: {
                    "retries": task.retries,
                    "owner": task.owner,
                    "callbacks": bool(task.on_failure_callback),
                    "outlets": sorted(a.uri for a in task.outlets),
                    "timeout": task.execution_timeout.total_seconds()
                    if task.execution_timeout else None,
                }
                for task in dag.tasks
            },
        }
    print(json.dumps({
        "errors": {k: v for k, v in bag.import_errors.items()},
        "dags": dags_out,
        "connects": connects,
        "opened": opened,
    }))
    """
)


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The DAG folder parsed in a subprocess with the warehouse unreachable."""
    home = tmp_path_factory.mktemp("parse-home")
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CLASSPULSE_", "AIRFLOW"))
    }
    environment.update(
        AIRFLOW_HOME=str(home / "airflow"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS_FOLDER),
        CLASSPULSE_HOME=str(home),
        CLASSPULSE_CLICKHOUSE_HOST="10.255.255.1",
        CLASSPULSE_CLICKHOUSE_PORT="9",
    )
    result = subprocess.run(
        [sys.executable, "-c", PARSE_SCRIPT, str(PROJECT_ROOT) + os.sep, str(DAGS_FOLDER)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_dag_file_imports_without_errors(parsed: dict[str, Any]) -> None:
    assert parsed["errors"] == {}
    assert set(parsed["dags"]) == EXPECTED_DAGS


def test_dag_id_is_the_file_name(parsed: dict[str, Any]) -> None:
    assert {dag["file"] for dag in parsed["dags"].values()} == {p.name for p in DAG_FILES}
    for dag_id, dag in parsed["dags"].items():
        assert dag["file"] == f"{dag_id}.py"


def test_every_dag_is_documented_tagged_owned_and_retried(parsed: dict[str, Any]) -> None:
    for dag_id, dag in parsed["dags"].items():
        assert len(dag["doc_md"].strip()) > 200 and "**When**" in dag["doc_md"], dag_id
        assert dag["tags"] and "classpulse" in dag["tags"], dag_id
        assert dag["owner"] == "data-platform", dag_id
        assert dag["catchup"] is False, dag_id
        for task_id, task in dag["tasks"].items():
            assert task["retries"] >= 1, (dag_id, task_id)
            assert task["owner"] == "data-platform", (dag_id, task_id)
            assert task["callbacks"], (dag_id, task_id)  # the failure alert
            assert task["timeout"], (dag_id, task_id)


def test_parsing_does_no_io(parsed: dict[str, Any]) -> None:
    # no connection attempt (a DAG file reaching for a warehouse would hang on its timeout) and
    # no project file opened outside dags/
    assert parsed["connects"] == []
    assert parsed["opened"] == []


def test_assets_link_the_dags(parsed: dict[str, Any]) -> None:
    dags = parsed["dags"]
    outlets = {
        (dag_id, task_id): task["outlets"]
        for dag_id, dag in dags.items()
        for task_id, task in dag["tasks"].items()
        if task["outlets"]
    }
    assert outlets == {
        ("offline_rollup", "publish"): ["classpulse://warehouse/ads"],
        ("lesson_preheat", "publish"): ["classpulse://warehouse/dim/preheat"],
        ("lesson_preheat_changes", "announce"): ["classpulse://warehouse/dim/preheat"],
        ("realtime_jobs", "announce_outputs"): ["classpulse://topics/flink-outputs"],
        ("realtime_jobs", "announce_changes"): ["classpulse://topics/lesson_change"],
    }
    assert dags["data_quality"]["timetable"] == "AssetOrTimeSchedule"
    assert dags["lesson_preheat_changes"]["timetable"] == "AssetOrTimeSchedule"
    assert dags["lesson_preheat"]["timetable"] == "CronTriggerTimetable"
    assert dags["offline_rollup"]["timetable"] == "CronDataIntervalTimetable"


def test_offline_rollup_builds_every_dbt_layer_in_order(parsed: dict[str, Any]) -> None:
    tasks = list(parsed["dags"]["offline_rollup"]["tasks"])
    assert [task for task in tasks if task.startswith("build_")] == [
        f"build_{layer}" for layer in dbt.LAYERS
    ]


def _runtime_bodies(tree: ast.AST) -> set[int]:
    """ids of the nodes inside @task function bodies (they run in tasks, not at parse)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names = {ast.unparse(decorator).split("(")[0] for decorator in node.decorator_list}
            if any(name.startswith("task") and name != "task_group" for name in names):
                for statement in node.body:
                    inside.update(id(child) for child in ast.walk(statement))
    return inside


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda path: path.name)
def test_dag_files_only_wire(path: Path) -> None:
    """No settings, client, file or network call outside task bodies; project imports are
    classpulse.orchestration only at module level (the rest is imported inside tasks)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    runtime = _runtime_bodies(tree)
    for node in ast.walk(tree):
        if id(node) in runtime:
            continue
        if isinstance(node, ast.Call):
            function = node.func
            name = function.attr if isinstance(function, ast.Attribute) else ast.unparse(function)
            assert name not in FORBIDDEN_CALLS, f"{path.name}:{node.lineno} calls {name}"
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("classpulse"):
            assert node.module == "classpulse.orchestration", f"{path.name} imports {node.module}"
        if isinstance(node, ast.Import):
            assert not any(alias.name.startswith("classpulse") for alias in node.names)


def test_importing_orchestration_does_not_import_airflow() -> None:
    """run_dag_locally sets AIRFLOW_HOME before Airflow reads its configuration."""
    code = "import sys, classpulse.orchestration; print('airflow' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda path: path.name)
def test_each_dag_file_runs_its_dag_when_executed(path: Path) -> None:
    """`python dags/<file>.py` runs the DAG once in-process (``dag.test()``), as Airflow's own
    examples do; the schedule is written in the file, next to the DAG it drives."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    entries = [
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == "__name__"
        and any(
            isinstance(value, ast.Constant) and value.value == "__main__"
            for value in node.test.comparators
        )
    ]
    assert len(entries) == 1, f"{path.name}: no `if __name__ == '__main__':` entry"
    calls = [
        node.func.attr
        for node in ast.walk(entries[0])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    ]
    assert calls == ["test"], f"{path.name}: the entry should call <dag>.test()"
    scheduled = [
        keyword
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "dag"
        for keyword in node.keywords
        if keyword.arg == "schedule"
    ]
    assert scheduled and not isinstance(scheduled[0].value, ast.Name), (
        f"{path.name}: write the schedule in the DAG file, not as an imported name"
    )
