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


def test_every_table_gets_the_options_of_its_role(flink_session: FlinkSession, tmp_path) -> None:
    """The rendered DDL read back from Flink's catalog: what each kind of table needs, whatever
    role its file declares. Distinct values for the two idle timeouts tell them apart."""
    from pyflink.table.catalog import ObjectPath

    from classpulse.kafka.splits import split_name

    settings = settings_for(tmp_path / "home")
    catalog = load_catalog(settings.root, "kafka")
    values = {
        "KAFKA_BOOTSTRAP_SERVERS": "broker:9092",
        "KAFKA_TRANSACTIONAL_ID_PREFIX": "prefix",
        "KAFKA_TRANSACTION_TIMEOUT_MS": "123456",
        "WATERMARK_IDLE_TIMEOUT": "37 s",
        "LABEL_WATERMARK_IDLE_TIMEOUT": "41 s",
    }
    variables = build_variables(settings, RunOptions(env="kafka", variables=values))
    flink_session.register_tables(catalog.tables, variables)
    table_env = flink_session.table_env
    flink_catalog = table_env.get_catalog(table_env.get_current_catalog())
    database = table_env.get_current_database()
    options = {
        table.name: dict(flink_catalog.get_table(ObjectPath(database, table.name)).get_options())
        for table in catalog.tables
    }
    schemas = {
        table.name: table_env.from_path(table.name).get_resolved_schema()
        for table in catalog.tables
    }
    written = set().union(*(job.outputs for job in catalog.jobs))
    read = set().union(*(job.inputs - job.outputs for job in catalog.jobs))
    label_inputs = {
        name
        for job in catalog.jobs
        if job.name == "mart_room_user_labels_30s"
        for name in job.inputs
        if schemas[name].get_watermark_specs()
    }
    assert len(label_inputs) >= 5
    prefixes = set()
    splits: dict[str, str] = {}
    for table in catalog.tables:
        name, option = table.name, options[table.name]
        if option["connector"] == "classpulse-warehouse":
            assert table.topic is None and option["relation"].startswith("dim."), name
            assert name in read and name not in written, name
            continue
        assert option["connector"] == "kafka" and option["topic"] == table.topic, name
        assert option["properties.bootstrap.servers"] == "broker:9092", name
        if name in written:  # exactly once, a transactional id of its own
            assert option["sink.delivery-guarantee"] == "exactly-once", name
            assert option["properties.transaction.timeout.ms"] == "123456", name
            prefixes.add(option["sink.transactional-id-prefix"])
            assert option["sink.transactional-id-prefix"] == f"prefix-{name}", name
        if name in read:  # by the pipeline's group, from where it stopped
            assert option["scan.startup.mode"] == "group-offsets", name
            assert option["properties.group.id"] == "classpulse-flink", name
        if name in read and name in written:  # a topic Flink writes in transactions
            assert option["properties.isolation.level"] == "read_committed", name
            assert option["format"] == "classpulse-json", name
            assert option["classpulse-json.encode.decimal-as-plain-number"] == "true", name
        if name in read and name not in written:  # a source: the raw line and its split
            assert option["value.format"] == "raw" and "format" not in option, name
            assert not [key for key in option if key.startswith("classpulse-json.")], name
            column = schemas[name].get_column("source_split")
            # PyFlink hands back the Java expression itself
            splits[name] = column.get_expression().asSerializableString()
        if name in label_inputs:
            assert option["scan.watermark.idle-timeout"] == "41 s", name
        elif schemas[name].get_watermark_specs():
            assert option["scan.watermark.idle-timeout"] == "37 s", name
            assert option["sink.partitioner"] == "fixed", name
    assert len(prefixes) == len(written)
    assert options["room_heartbeat_clean"]["scan.watermark.emit.strategy"] == "on-event"
    # the split every source computes, evaluated by Flink for partition 3, is split_name's
    names = sorted(splits)
    columns = ", ".join(f"{splits[name]} AS `{name}`" for name in names)
    query = f"SELECT {columns} FROM (VALUES (3)) AS partitions(kafka_partition)"
    (row,) = flink_session.collect(query)
    assert dict(zip(names, row, strict=True)) == {
        name: split_name(options[name]["topic"], 3) for name in names
    }
    assert len(names) >= 14 and splits["uc_account_student"].startswith("CONCAT('uc_account-")
