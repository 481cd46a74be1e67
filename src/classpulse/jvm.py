"""The pinned JVM runtime resolved by the set-up: the Kafka broker's jars and Flink's connectors.

``jvm/runtime/pom.xml`` pins the versions; ``make jvm-runtime`` (part of ``make venv``) copies
the jars from Maven Central into ``.cache/jvm/kafka-broker/`` and ``.cache/jvm/flink-connectors/``.
``CLASSPULSE_JVM_DIR`` points elsewhere (an image that resolved them at build time).
"""

from __future__ import annotations

import os
from pathlib import Path

from classpulse.config import project_root

JVM_DIR_VARIABLE = "CLASSPULSE_JVM_DIR"
KAFKA_CONNECTOR_PREFIX = "flink-sql-connector-kafka-"


class JvmRuntimeMissing(RuntimeError):
    """The resolved jars are not there: the set-up has not run."""


def jvm_dir() -> Path:
    configured = os.environ.get(JVM_DIR_VARIABLE, "").strip()
    return Path(configured) if configured else project_root() / ".cache" / "jvm"


def _jars(directory: Path, what: str) -> list[Path]:
    jars = sorted(directory.glob("*.jar")) if directory.is_dir() else []
    if not jars:
        raise JvmRuntimeMissing(
            f"{what} jars are missing from {directory}. Run `make jvm-runtime` (or `make venv`): "
            "it resolves jvm/runtime/pom.xml from Maven Central with mvn."
        )
    return jars


def kafka_broker_classpath() -> str:
    """The broker's classpath (``kafka_2.13`` with its dependencies and the log4j2 binding)."""
    return os.pathsep.join(str(jar) for jar in _jars(jvm_dir() / "kafka-broker", "Kafka broker"))


def flink_connector_jars() -> list[Path]:
    """Flink SQL connector uber jars (for ``pipeline.jars``)."""
    return _jars(jvm_dir() / "flink-connectors", "Flink connector")


def flink_kafka_connector_jar() -> Path:
    for jar in flink_connector_jars():
        if jar.name.startswith(KAFKA_CONNECTOR_PREFIX):
            return jar
    raise JvmRuntimeMissing(
        f"flink-sql-connector-kafka is missing from {jvm_dir() / 'flink-connectors'}; "
        "run `make jvm-runtime`"
    )
