"""``classpulse bench realtime --quick`` runs end to end and reports every figure.

A smoke test on a tiny generated day, through a broker and a warehouse of the benchmark's own:
real Flink (every job over the kafka connector set, exactly once), the landing, chDB, and a
short paced load through the continuous pipeline. It checks the structure and the accounting
of the result (what was produced, read, landed, measured), never a duration or a rate.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.timeout(3600)  # ~3 min on a quiet machine; a busy one deploys the jobs slowly
def test_quick_realtime_benchmark_reports_every_figure(tmp_path: Path) -> None:
    result_file = tmp_path / "realtime.json"
    environment = {
        **os.environ,
        "CLASSPULSE_HOME": str(tmp_path / "home"),  # the generated day is cached there
        "COLUMNS": "250",
    }
    environment.pop("CLASSPULSE_FLINK_JOBMANAGER", None)
    command = [sys.executable, "-m", "classpulse.cli", "bench", "realtime", "--quick"]
    # one partition and one task per operator: the smallest job graph deploys fastest
    command += ["--partitions", "1", "--parallelism", "1", "--output", str(result_file)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment
    )
    try:
        output, errors = process.communicate(timeout=3300)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)  # the benchmark stops its broker, warehouse, job
        output, errors = process.communicate(timeout=180)
    assert process.returncode == 0, output[-3000:] + errors[-6000:]

    report = json.loads(result_file.read_text())
    produced = report["produced"]
    assert report["messages"] == sum(produced.values()) > 0
    assert produced["agora_record"] > 0  # the generated day's topics; rooms topics may be empty
    measurements = report["measurements"]
    assert set(measurements) == {"flink", "landing", "chdb"}
    for name, figure in measurements.items():
        assert len(figure["seconds"]) == 1, name  # one round
        assert figure["units"] > 0 and figure["per_second"] > 0, name
    # every source message is counted by Flink and chDB; landing counts the rows it inserted
    assert measurements["flink"]["units"] == measurements["chdb"]["units"] == report["messages"]
    assert measurements["landing"]["units"] == sum(report["landed_rows"].values())
    assert report["landed_rows"]["ods.agora_record_clean"] > 0
    # nothing lost, nothing counted twice: read = accepted + rejected, counted + late = accepted
    assert report["identities_hold"], report["identities"]

    # the continuous job read the whole backlog, cleaning and marts (rates only on larger days)
    sustained = report["flink_sustained"]
    assert sustained["backlog"] == report["messages"]
    assert sustained["caught_up_seconds"] is not None, sustained
    assert sustained["samples"][-1][1] >= report["messages"]
    assert sustained["mart_source_rows"] > 0

    freshness = report["freshness"]
    assert freshness["paced_messages"] > 0 and freshness["windows"] >= 1
    assert 0 < freshness["measured_messages"] <= freshness["paced_messages"]
    assert len(freshness["freshness_ms"]) == freshness["measured_messages"]
    assert freshness["p50_seconds"] is not None and freshness["p95_seconds"] is not None

    for label in (
        "Kafka → all cleaning + marts → Kafka, exactly once",
        "Kafka → ClickHouse landing",
        "chDB parsing the same raw JSON",
        "produce → queryable in rt.av_quality_30s_log",
        "window closable (end + delay) → queryable",
        "Flink, continuous job on the produced backlog",
    ):
        assert label in output, output
    assert "accounting identities after the last round: hold" in output
    assert f"results: {result_file}" in output
