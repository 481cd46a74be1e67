"""`classpulse airflow`: Airflow 3 standalone with the project's DAGs (what `make airflow` runs)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from classpulse.config import load_settings

PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"


@click.command("airflow")
@click.option("--port", default=8080, show_default=True, help="Port of the Airflow UI and API.")
def command(port: int) -> None:
    """Run Airflow standalone (scheduler, DAG processor, API server, triggerer) in the foreground.

    AIRFLOW_HOME is <CLASSPULSE_HOME>/airflow (var/airflow): SQLite metadata DB, logs and the
    admin's generated password; examples off; DAGs from dags/. The UI listens on loopback
    only. The embedded warehouse is started first when it is the configured one. DAGs start
    paused: unpause them in the UI. Stop with Ctrl-C.
    """
    from classpulse import pipeline
    from classpulse.orchestration import airflow_environment

    settings = load_settings()
    try:
        warehouse = pipeline.ensure_warehouse(settings)
    except pipeline.StageError as exc:
        raise click.ClickException(str(exc)) from None
    environment = {
        **airflow_environment(settings),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
    }
    home = Path(environment["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    passwords = home / PASSWORDS_FILE
    click.echo(f"warehouse   {warehouse['url']} (ClickHouse {warehouse['version']})")
    click.echo(f"DAGs        {environment['AIRFLOW__CORE__DAGS_FOLDER']} (paused at first)")
    click.echo(f"Airflow UI  http://127.0.0.1:{port}  (first start: a minute to migrate the DB)")
    click.echo(f"login       admin / password in {passwords} (written on first start)")
    # standalone starts its components as `airflow ...` from PATH: this venv's comes first
    scripts = Path(sys.executable).parent
    environment["PATH"] = os.pathsep.join([str(scripts), os.environ.get("PATH", "")])
    airflow = scripts / "airflow"
    os.execve(airflow, [str(airflow), "standalone"], {**os.environ, **environment})
