"""The Kafka connector DDL in a real catalog, and how a run fails or is skipped before it
submits anything (no brokers configured; a cluster already running the job).

The shared session has the Kafka connector (flink-sql-connector-kafka, .cache/jvm) on its
class path, as every session the runner starts does.
"""

from __future__ import annotations

import pytest
from flink_helpers import settings_for

from classpulse.config import load_settings
from classpulse.flink.runner import (
    RunError,
    RunOptions,
    build_variables,
    load_catalog,
    run_jobs,
)
from classpulse.flink.session import FlinkSession
from classpulse.flink.variables import MissingVariableError


def test_kafka_tables_register_and_plan(flink_session: FlinkSession, tmp_path) -> None:
    settings = settings_for(tmp_path / "home")
    catalog = load_catalog(settings.root, "kafka")
    variables = build_variables(
        settings,
        RunOptions(env="kafka", variables={"KAFKA_BOOTSTRAP_SERVERS": "broker:9092"}),
    )
    flink_session.register_tables(catalog.tables, variables)
    listed = {row[0] for row in flink_session.collect("SHOW TABLES")}
    assert set(catalog.table_names) <= listed
    plan = flink_session.table_env.explain_sql("SELECT payload FROM timeline_client_topic")
    assert "timeline_client_topic" in plan


def test_kafka_is_the_only_connector_set() -> None:
    with pytest.raises(RunError, match="unknown environment 'local'"):
        load_catalog(load_settings({}).root, "local")


def test_a_kafka_run_without_brokers_fails_before_submitting(
    flink_session: FlinkSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    with pytest.raises(MissingVariableError, match="KAFKA_BOOTSTRAP_SERVERS"):
        run_jobs(RunOptions(env="kafka"), settings=load_settings({}), session=flink_session)


def test_a_cluster_job_already_running_is_not_submitted_again(tmp_path) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from classpulse.flink.runner import parse_properties
    from classpulse.flink.session import SessionOptions

    catalog = load_catalog(load_settings({}).root, "kafka")
    name = "classpulse flink: " + ", ".join(job.name for job in catalog.jobs)

    class JobManager(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            body = json.dumps({"jobs": [{"jid": "j1", "name": name, "state": "RUNNING"}]})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), JobManager)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        address = f"127.0.0.1:{server.server_address[1]}"
        session = FlinkSession(SessionOptions(jobmanager=address))
        result = run_jobs(
            RunOptions(
                env="kafka",
                bounded=False,
                variables={"KAFKA_BOOTSTRAP_SERVERS": "broker:9092"},
            ),
            settings=settings_for(tmp_path / "home"),
            session=session,
        )
    finally:
        server.shutdown()
    assert [wave.job_id for wave in result.waves] == ["j1"]
    assert parse_properties(
        "parallelism.default: 4\n# note\nexecution.checkpointing.interval: 30s"
    ) == {
        "parallelism.default": "4",
        "execution.checkpointing.interval": "30s",
    }
