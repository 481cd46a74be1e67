#!/usr/bin/env bash
# airflow-init (docker-compose.yml): migrate Airflow's metadata database, then register the
# admin of Airflow's simple auth manager from AIRFLOW_ADMIN_USER / AIRFLOW_ADMIN_PASSWORD in
# its passwords file (the airflow-auth volume, read by the api-server). Safe to re-run;
# the file is rewritten each time, so a changed password takes effect on the next start.
set -euo pipefail

: "${AIRFLOW_ADMIN_USER:?AIRFLOW_ADMIN_USER is required}"
: "${AIRFLOW_ADMIN_PASSWORD:?AIRFLOW_ADMIN_PASSWORD is required}"
: "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:?AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE is required}"

airflow db migrate

python - <<'PYTHON'
import json
import os
from pathlib import Path

path = Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
path.parent.mkdir(parents=True, exist_ok=True)
passwords = {os.environ["AIRFLOW_ADMIN_USER"]: os.environ["AIRFLOW_ADMIN_PASSWORD"]}
descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(descriptor, "w") as handle:
    json.dump(passwords, handle)
    handle.write("\n")
print(f"airflow-init: admin user {os.environ['AIRFLOW_ADMIN_USER']!r} registered in {path}")
PYTHON
