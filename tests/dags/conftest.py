"""Fixtures for the DAG tests: Airflow configured once per session, under one temp home.

Airflow reads ``AIRFLOW_HOME`` when it is first imported, so nothing here imports it at
collection time: :func:`airflow_settings` points ``CLASSPULSE_HOME`` (and with it
``AIRFLOW_HOME = <home>/airflow``) at a temp directory, then migrates the SQLite metadata
DB once. DAG runs go through :func:`classpulse.orchestration.run_dag_locally`, the same
code ``make demo`` uses, with an embedded warehouse of the DAG tests' own (the offline gate
judges the accounting by offsets over whole ods tables) and the session's Kafka broker,
emptied first (every topic truncated, as ``empty_kafka`` does).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from kafka_helpers import free_port, truncate_topics

from classpulse.config import Settings, load_settings
from classpulse.warehouse import daemon

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="session")
def dags_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One home for every DAG module: Airflow reads AIRFLOW_HOME once per process."""
    return tmp_path_factory.mktemp("dags-home")


@pytest.fixture(scope="module")
def airflow_settings(
    warehouse: Settings,
    kafka_broker: Settings,
    dags_home: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Settings]:
    """Settings whose home (and Airflow's) is a session temp directory; DB migrated.

    The DAGs' tasks read their settings from the environment: CLASSPULSE_KAFKA_* already name
    the session's broker (``kafka_broker``), CLASSPULSE_CLICKHOUSE_* are pointed here at a
    warehouse of the DAG tests' own. Module scope: the environment is restored after each module,
    so no later test's CLI reaches this warehouse.
    """
    from classpulse import orchestration

    home = dags_home
    own = replace(
        warehouse,
        warehouse_path=tmp_path_factory.mktemp("dags-warehouse") / "data",
        clickhouse_port=free_port(),
    )
    daemon.start(own)
    truncate_topics(kafka_broker)
    patch = pytest.MonkeyPatch()
    try:
        patch.setenv("CLASSPULSE_WAREHOUSE_PATH", str(own.warehouse_path))
        patch.setenv("CLASSPULSE_CLICKHOUSE_PORT", str(own.clickhouse_port))
        patch.setenv("CLASSPULSE_HOME", str(home))
        patch.delenv(orchestration.ALERT_WEBHOOK_VARIABLE, raising=False)
        patch.delenv("CLASSPULSE_FLINK_JOBMANAGER", raising=False)
        settings = load_settings()
        for name, value in orchestration.airflow_environment(settings).items():
            patch.setenv(name, value)
        orchestration.migrate_metadata_db(settings.home / "airflow")
        yield settings
    finally:
        patch.undo()
        daemon.stop(own)


@pytest.fixture(scope="module")
def topics(airflow_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A topics directory of the module's own; tasks find it through CLASSPULSE_TOPICS_DIR."""
    directory = tmp_path_factory.mktemp("topics")
    patch = pytest.MonkeyPatch()
    patch.setenv("CLASSPULSE_TOPICS_DIR", str(directory))
    try:
        yield directory
    finally:
        patch.undo()
