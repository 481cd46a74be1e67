"""The DAGs' helpers without a DAG run: batch groups, sized timeouts, business days, alerts,
and the realtime checks of a Flink cluster (against a stand-in for its REST API)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

from classpulse import orchestration, pipeline
from classpulse.config import load_settings
from classpulse.pipeline import group_batches
from classpulse.preheat import estimate_seconds


def batches(*students: int) -> list[dict[str, Any]]:
    return [
        {"batch_no": number, "lessons": [number], "students": size}
        for number, size in enumerate(students, start=1)
    ]


def test_batches_within_the_limit_get_a_task_each() -> None:
    planned = batches(500, 400, 300)
    assert group_batches(planned, 3) == [[batch] for batch in planned]
    assert group_batches(planned, 1024) == [[batch] for batch in planned]


def test_more_batches_than_tasks_share_tasks_evenly() -> None:
    planned = batches(900, 800, 500, 400, 300, 300, 200, 100)
    groups = group_batches(planned, 3)
    assert len(groups) == 3
    assert sorted(batch["batch_no"] for group in groups for batch in group) == list(range(1, 9))
    loads = [sum(batch["students"] for batch in group) for group in groups]
    assert max(loads) - min(loads) <= 200  # largest first onto the lightest group
    for group in groups:
        assert [batch["batch_no"] for batch in group] == sorted(b["batch_no"] for b in group)
    assert group_batches(planned, 3) == groups  # deterministic
    with pytest.raises(ValueError):
        group_batches(planned, 0)


def test_the_timeout_hook_sizes_the_task_from_its_argument() -> None:
    def preheat(group: dict[str, Any]) -> None: ...

    small = {"students": 100, "lessons": 2}
    huge = {"students": 20_000_000, "lessons": 4000}
    for group in (small, huge):
        task = SimpleNamespace(
            python_callable=preheat, op_args=(group,), op_kwargs={}, execution_timeout=None
        )
        orchestration.timeout_from_size("group")({"task": task})
        assert task.execution_timeout == orchestration.sized_timeout(
            group["students"], group["lessons"]
        )
    assert orchestration.sized_timeout(100, 2) == orchestration.MIN_SIZED_TIMEOUT
    assert orchestration.sized_timeout(20_000_000, 4000) == timedelta(
        seconds=estimate_seconds(20_000_000, 4000)
    )
    assert orchestration.sized_timeout(20_000_000, 4000) > orchestration.MIN_SIZED_TIMEOUT


def test_business_days_come_from_the_logical_date_and_the_data_interval() -> None:
    midnight = datetime(2026, 3, 9, 16, tzinfo=UTC)  # 2026-03-10 00:00 in Shanghai
    context: dict[str, Any] = {"logical_date": midnight, "params": {"day": None}}
    assert orchestration.preheat_day(context, "Asia/Shanghai") == date(2026, 3, 10)
    assert orchestration.preheat_day(context, "UTC") == date(2026, 3, 9)
    manual = {"logical_date": None, "dag_run": SimpleNamespace(run_after=midnight), "params": {}}
    assert orchestration.preheat_day(manual, "Asia/Shanghai") == date(2026, 3, 10)
    assert orchestration.rollup_day(manual, "Asia/Shanghai") == date(2026, 3, 9)

    interval = {"data_interval_start": midnight, "logical_date": midnight, "params": {}}
    assert orchestration.rollup_day(interval, "Asia/Shanghai") == date(2026, 3, 10)
    override = {**interval, "params": {"day": "2026-02-01"}}
    assert orchestration.rollup_day(override, "Asia/Shanghai") == date(2026, 2, 1)
    assert orchestration.preheat_day(override, "Asia/Shanghai") == date(2026, 2, 1)


class Receiver(BaseHTTPRequestHandler):
    """Records POSTed JSON bodies; waits ``delay`` seconds before answering."""

    received: list[dict[str, Any]] = []
    delay = 0.0

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append({"content_type": self.headers["Content-Type"], **json.loads(body)})
        time.sleep(Receiver.delay)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def local_http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[HTTPServer]:
    """``handler`` serving on a free loopback port in a thread, until the block ends."""
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    Receiver.received, Receiver.delay = [], 0.0
    with local_http_server(Receiver) as server:
        url = f"http://127.0.0.1:{server.server_port}/hooks/alerts"
        monkeypatch.setenv(orchestration.ALERT_WEBHOOK_VARIABLE, url)
        yield url


def failed_context() -> dict[str, Any]:
    ti = SimpleNamespace(
        dag_id="lesson_preheat",
        task_id="batch.preheat",
        map_index=2,
        try_number=3,
        log_url="http://127.0.0.1:8080/log",
    )
    return {
        "ti": ti,
        "run_id": "scheduled__2026-03-10",
        "logical_date": datetime(2026, 3, 9, 16, tzinfo=UTC),
        "exception": RuntimeError("batch 7 hung"),
    }


def test_a_failure_alert_is_logged_and_posted_as_json(
    webhook: str, caplog: pytest.LogCaptureFixture
) -> None:
    orchestration.alert_failure(failed_context())
    (alert,) = Receiver.received
    assert alert["content_type"] == "application/json"
    assert alert["text"] == (
        "[ClassPulse] lesson_preheat.batch.preheat[2] failed (try 3): RuntimeError: batch 7 hung"
    )
    assert alert["level"] == "error" and alert["run_id"] == "scheduled__2026-03-10"
    assert alert["log_url"] == "http://127.0.0.1:8080/log"
    assert "ALERT [ClassPulse] lesson_preheat.batch.preheat[2] failed" in caplog.text


def test_a_warning_is_posted_too(webhook: str) -> None:
    orchestration.warn("2 lesson(s) withheld", run={"run_id": 1})
    (alert,) = Receiver.received
    assert alert["level"] == "warning" and alert["run"] == {"run_id": 1}


def test_alerts_never_raise(
    webhook: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(orchestration, "ALERT_TIMEOUT_SECONDS", 0.3)
    Receiver.delay = 2.0
    assert orchestration.send_alert({"text": "slow"}) is False  # timed out: not delivered
    assert orchestration.send_alert({"text": "x"}, webhook="http://127.0.0.1:9/") is False
    assert orchestration.send_alert({"text": "x"}, webhook="not a url") is False
    orchestration.alert_failure({})  # no task instance at all: still only logs
    monkeypatch.delenv(orchestration.ALERT_WEBHOOK_VARIABLE)
    assert orchestration.send_alert({"text": "nowhere"}) is False
    assert "webhook" in caplog.text


class FlinkRest(BaseHTTPRequestHandler):
    """A JobManager's REST answers: one classpulse job, checkpointed ``age`` seconds ago."""

    state = "RUNNING"
    age = 5.0

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/jobs/overview":
            jobs = [
                {"jid": "j1", "name": "classpulse flink: all jobs", "state": FlinkRest.state},
                {"jid": "j2", "name": "someone else's job", "state": "RUNNING"},
            ]
            body: dict[str, Any] = {"jobs": jobs}
        else:
            acked = int((time.time() - FlinkRest.age) * 1000)
            body = {"latest": {"completed": {"latest_ack_timestamp": acked}}}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def jobmanager(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    FlinkRest.state, FlinkRest.age = "RUNNING", 5.0
    with local_http_server(FlinkRest) as server:
        address = f"127.0.0.1:{server.server_port}"
        monkeypatch.setenv(pipeline.FLINK_JOBMANAGER_VARIABLE, address)
        yield address


def test_cluster_mode_leaves_running_jobs_alone_and_ages_their_checkpoints(
    jobmanager: str,
) -> None:
    settings = load_settings({})
    submitted = pipeline.submit_flink(settings)
    assert submitted["submitted"] is False
    assert submitted["running"] == ["classpulse flink: all jobs"]
    lag = pipeline.check_flink_lag(settings, max_lag_seconds=60)
    # the lag is judged on every job's checkpoint age, as the stand-in JobManager reports it
    assert lag["mode"] == "cluster"
    assert set(lag["checkpoint_age_seconds"]) == {"classpulse flink: all jobs"}
    FlinkRest.age = 3600
    with pytest.raises(pipeline.StageError, match="behind"):
        pipeline.check_flink_lag(settings, max_lag_seconds=60)
    FlinkRest.state = "FAILED"
    with pytest.raises(pipeline.StageError, match="no classpulse job is RUNNING"):
        pipeline.check_flink_lag(settings, max_lag_seconds=60)
