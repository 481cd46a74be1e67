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
    assert set(measurements) == {"flink", "copy", "landing", "chdb"}
    for name, figure in measurements.items():
        assert len(figure["seconds"]) == 1, name  # one round
        assert figure["units"] > 0 and figure["per_second"] > 0, name
    # every source message is counted by Flink and chDB; landing counts the rows it inserted
    assert measurements["flink"]["units"] == measurements["chdb"]["units"] == report["messages"]
    # the copy (Flink's ceiling) committed every source message once: read back read_committed
    assert measurements["copy"]["units"] == report["copy_committed"] == report["messages"]
    assert measurements["landing"]["units"] == sum(report["landed_rows"].values())
    assert report["landed_rows"]["ods.agora_record_clean"] > 0
    # bounded: two stages (cleaning, marts); for each Flink measurement one planning figure per
    # round, and the rate without it is the units over the round's seconds less its planning
    assert [len(stages) for stages in report["flink_jobs_seconds"]] == [2]
    for name in ("flink", "copy"):
        figure = measurements[name]
        assert len(figure["planning_seconds"]) == len(figure["seconds"]) == 1, name
        running = figure["seconds"][0] - figure["planning_seconds"][0]
        assert figure["planning_excluded_per_second"] == figure["units"] / running, name
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

    # the room jobs (issue 12): throughput on a synthetic room, minute freshness and state per
    # online user under a paced room; structure and counts only
    rooms = report["rooms"]
    assert rooms["jobs"] == [
        "clean_room_heartbeat",
        "clean_room_push_ack",
        "mart_room_presence_sessions",
        "mart_room_message_loss_daily",
    ]
    throughput = rooms["throughput"]
    # every user enters, beats every 10 s and reports every 2 s: 0.6 messages per user-second
    load = rooms["load"]
    assert throughput["messages"] == load["users"] * load["seconds"] * 6 // 10
    assert len(throughput["seconds"]) == 1 and throughput["per_second"] > 0
    assert throughput["goal_per_second"] == 36_000
    minutes = rooms["minute_freshness"]
    assert minutes["paced_messages"] > 0 and minutes["minutes"] >= 1
    assert len(minutes["seconds_after_closable"]) == minutes["minutes"]
    assert minutes["p50_seconds"] is not None and minutes["goal_seconds"] == 10
    # where each counted minute's time went, on this machine's one clock: written by Flink after
    # closable, committed by a checkpoint acknowledged after the write, landed after the
    # write, seen after landing (the figure itself is seen - closable)
    trace = minutes["trace"]
    assert [str(item["minute"]) for item in trace] == list(minutes["seconds_after_closable"])
    for item in trace:
        checkpoint = item["checkpoint"]
        assert checkpoint["status"] == "COMPLETED", item
        assert item["closable"] < item["written"] <= checkpoint["latest_ack_timestamp"], item
        assert item["written"] <= item["landed"] <= item["seen"], item
        figure = minutes["seconds_after_closable"][str(item["minute"])]
        assert (item["seen"] - item["closable"]) / 1000 == figure
    assert f"rooms: minute {trace[0]['minute']}: closable, written +" in output
    state = rooms["state"]
    assert state["online_users"] == load["paced_users"] > 0
    assert state["checkpoints"] and state["state_bytes"] == state["checkpoints"][-1]["state_size"]
    assert state["bytes_per_online_user"] == state["state_bytes"] / state["online_users"]
    assert state["operators"] and state["goal_bytes_per_user"] == 100
    # the goal's figure: the vertices that write the two presence marts, a part of the whole
    presence = [
        row["state_size"]
        for row in state["operators"]
        if "room_presence_sessions[" in row["vertex"] or "room_concurrency_1min[" in row["vertex"]
    ]
    assert len(presence) == 2 and 0 < sum(presence) < state["state_bytes"]
    assert state["presence_state_bytes"] == sum(presence)
    assert state["presence_bytes_per_online_user"] == sum(presence) / state["online_users"]

    # the live classroom (issue 11): its five topics produced and read by every round, the
    # decision latency of the paced presses, the lookup cache's counters
    labels = report["labels"]
    live = labels["produced"]
    assert set(live) == {
        "classroom_enter",
        "classroom_av_sample",
        "classroom_device_sample",
        "classroom_courseware_event",
        "classroom_help_request",
    }
    assert all(count > 0 for count in live.values()), live
    assert labels["messages"] == sum(live.values()) and all(
        produced[t] == n for t, n in live.items()
    )
    assert not {"dim_live_room", "dim_room_membership"} & set(produced)  # lookups, not topics
    assert labels["published_rooms"] == labels["lessons"] > 0
    # one round measured, or given up after the Flink planner's NPE three times (recorded)
    assert len(labels["seconds"]) + labels["planner_failures"] == 1
    assert labels["per_second"] is None or labels["per_second"] > 0
    assert len(labels["planning_seconds"]) == len(labels["seconds"])  # one per measured round
    # every live-classroom message read and accounted: the full round's identities above count
    # them (Flink's read = produced per topic; counted + late = accepted per mart)
    triage = labels["triage"]
    assert triage["presses"] > 0 and 0 < triage["decided"] <= triage["presses"]
    assert len(triage["latency_ms"]) == triage["decided"]
    assert triage["p50_seconds"] is not None and triage["p95_seconds"] is not None
    cache = labels["cache"]
    assert cache["hits"] + cache["misses"] > 0 and 0 <= cache["hit_rate"] <= 1
    assert cache["after"]["cache_hits"] >= cache["before"].get("cache_hits", 0)
    # refresh after write and batched loads: their counters are reported too
    assert all(cache[name] >= 0 for name in ("refreshes", "errors", "queries", "failed_lookups"))

    for label in (
        "Kafka → live-classroom cleaning + union + labels + triage → Kafka, exactly once",
        "help press produced → triage row queryable in rt.help_request_triage_log",
        "enrichment lookup cache hit rate after warm-up",
        "room jobs, messages/s",
        "minute closable → queryable in rt.room_concurrency_1min_log",
        "presence state per online user",
        "the room job's whole state per online user",
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
