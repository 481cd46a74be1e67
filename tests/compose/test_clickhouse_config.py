"""ClickHouse server files of the compose stack: well-formed, mounted, and the access model.

`default` is gone, every password comes from the environment, the analyst is read-only on the
marts (ads, rt) and the pipeline user owns every database the project creates. Checked on the
XML and, at the end, by ClickHouse itself (chDB's engine loading the users file).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import yaml
from compose_stack import ROOT

from classpulse.config import VARIABLES
from classpulse.warehouse import LAYER_DATABASES

CLICKHOUSE_DIR = ROOT / "docker" / "clickhouse"
USERS_FILE = CLICKHOUSE_DIR / "users.d" / "z-classpulse-users.xml"
CONFIG_FILE = CLICKHOUSE_DIR / "config.d" / "classpulse.xml"
WAREHOUSE_PRIVILEGES = "SELECT, INSERT, ALTER, CREATE, DROP, TRUNCATE, OPTIMIZE, SHOW, dictGet"


def users() -> ElementTree.Element:
    return ElementTree.parse(USERS_FILE).getroot()


def grants(user: ElementTree.Element) -> list[str]:
    return [" ".join(query.text.split()) for query in user.findall("grants/query")]


def project_databases() -> set[str]:
    """Every database the project's code, SQL files or dbt project creates."""
    found = set(LAYER_DATABASES)
    create = re.compile(r"CREATE\s+DATABASE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?!IF\s)`?(\w+)", re.I)
    for pattern in ("clickhouse/**/*.sql", "src/**/*.py", "dbt_project/**/*.sql"):
        for path in ROOT.glob(pattern):
            found.update(create.findall(path.read_text()))
    dbt_project = ROOT / "dbt_project" / "dbt_project.yml"
    if dbt_project.is_file():
        found.update(_dbt_schemas(yaml.safe_load(dbt_project.read_text()).get("models", {})))
    return found


def _dbt_schemas(node: object) -> set[str]:
    if not isinstance(node, dict):
        return set()
    schemas = {node["+schema"]} if isinstance(node.get("+schema"), str) else set()
    for value in node.values():
        schemas |= _dbt_schemas(value)
    return schemas


def test_every_file_is_well_formed_and_mounted_read_only(services: dict) -> None:
    files = sorted(CLICKHOUSE_DIR.rglob("*.xml"))
    assert files == sorted([USERS_FILE, CONFIG_FILE])
    mounted = services["clickhouse"]["volumes"]
    for path in files:
        assert ElementTree.parse(path).getroot().tag == "clickhouse", path
        relative = path.relative_to(CLICKHOUSE_DIR)
        assert f"{path}:/etc/clickhouse-server/{relative}:ro" in mounted, relative


def test_default_user_is_removed() -> None:
    default = users().find("users/default")
    assert default is not None and default.get("remove") == "remove"
    assert len(default) == 0


def test_every_password_comes_from_the_environment(services: dict) -> None:
    environment = services["clickhouse"]["environment"]
    for user in users().find("users"):
        if user.get("remove") == "remove":
            continue
        secrets = [child for child in user if child.tag.startswith("password")]
        assert [s.tag for s in secrets] == ["password"], user.tag
        variable = secrets[0].get("from_env")
        assert variable and not (secrets[0].text or "").strip(), user.tag
        assert environment.get(variable), f"{user.tag}'s password variable {variable} is not set"


def test_the_analyst_is_read_only_on_the_marts() -> None:
    root = users()
    analyst = root.find("users/analyst")
    profile = root.find(f"profiles/{analyst.findtext('profile')}")
    assert profile.findtext("readonly") == "1"
    assert sorted(grants(analyst)) == ["GRANT SELECT ON ads.*", "GRANT SELECT ON rt.*"]
    assert analyst.find("access_management") is None


def test_the_pipeline_owns_every_project_database(services: dict) -> None:
    pipeline = users().find("users/pipeline")
    assert services["init"]["environment"]["CLASSPULSE_CLICKHOUSE_USER"] == "pipeline"
    owned = {}
    for grant in grants(pipeline):
        match = re.fullmatch(r"GRANT (.+) ON (\w+)\.\*", grant)
        if match and match.group(2) != "system":
            owned[match.group(2)] = match.group(1)
    assert project_databases() <= set(owned), sorted(project_databases() - set(owned))
    assert set(owned.values()) == {WAREHOUSE_PRIVILEGES}
    assert not any(grant.startswith("GRANT ALL") for grant in grants(pipeline))
    assert "GRANT READ, WRITE ON KAFKA" in grants(pipeline)
    assert "GRANT SELECT ON system.*" in grants(pipeline)


def test_the_server_time_zone_is_the_embedded_warehouse_one() -> None:
    config = ElementTree.parse(CONFIG_FILE).getroot()
    assert config.findtext("timezone") == VARIABLES["WAREHOUSE_TIMEZONE"][0]


# The real engine reads the files: chDB (ClickHouse 26.9, the embedded warehouse's engine)
# with a users.xml standing in for the image's (a `default` without a password) and our
# users.d and config.d files merged over it. In a subprocess: chDB holds one engine per process.
IMAGE_USERS_XML = """<clickhouse>
  <profiles><default/></profiles>
  <quotas><default/></quotas>
  <users>
    <default><password/><networks><ip>::/0</ip></networks>
      <profile>default</profile><quota>default</quota></default>
  </users>
</clickhouse>
"""
# Test-only: puts `default` back (merged after our file) so the probe can look inside.
INSPECTOR_XML = """<clickhouse><users><default><password/><networks><ip>::/0</ip></networks>
  <profile>default</profile><quota>default</quota><access_management>1</access_management>
  </default></users></clickhouse>
"""
PROBE = """
import json, sys
import chdb
try:
    connection = chdb.connect("file::memory:?config-file=" + sys.argv[1])
except Exception as error:
    print(json.dumps({"error": str(error)}))
    raise SystemExit(0)
cursor = connection.cursor()
def rows(query):
    cursor.execute(query)
    return [list(row) for row in cursor.fetchall()]
print(json.dumps({
    "users": rows("SELECT name, arrayStringConcat(auth_type, ',') FROM system.users ORDER BY name"),
    "analyst": [row[0] for row in rows("SHOW GRANTS FOR analyst")],
    "pipeline": [row[0] for row in rows("SHOW GRANTS FOR pipeline")],
    "display_name": rows("SELECT displayName()")[0][0],
    "profile": rows("SELECT setting_name, value FROM system.settings_profile_elements"
                    " WHERE profile_name = 'analyst' ORDER BY setting_name"),
}))
"""


def probe_clickhouse(
    directory: Path,
    server_environment: dict,
    inspector: str | None,
    probe: str = PROBE,
    arguments: tuple[str, ...] = (),
) -> dict:
    (directory / "users.d").mkdir(parents=True, exist_ok=True)
    (directory / "users.xml").write_text(IMAGE_USERS_XML)
    shutil.copy(USERS_FILE, directory / "users.d" / USERS_FILE.name)
    (directory / "config.d").mkdir(exist_ok=True)
    shutil.copy(CONFIG_FILE, directory / "config.d" / CONFIG_FILE.name)
    if inspector:
        (directory / "users.d" / "zz-test-inspector.xml").write_text(inspector)
    config = directory / "config.xml"
    config.write_text(
        f"<clickhouse><users_config>{directory / 'users.xml'}</users_config></clickhouse>"
    )
    environment = {**os.environ, **server_environment}
    result = subprocess.run(
        [sys.executable, "-c", probe, str(config), *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_clickhouse_itself_finds_no_default_user(tmp_path: Path, services: dict) -> None:
    server = services["clickhouse"]["environment"]
    found = probe_clickhouse(tmp_path, server, inspector=None)
    assert "default: Authentication failed" in found["error"]
    assert "there is no user with such name" in found["error"]


def test_clickhouse_itself_reads_the_access_model(tmp_path: Path, services: dict) -> None:
    server = services["clickhouse"]["environment"]
    found = probe_clickhouse(tmp_path, server, inspector=INSPECTOR_XML)
    users_found = dict(found["users"])
    assert users_found["pipeline"] == users_found["analyst"] == "plaintext_password"
    assert found["analyst"] == [
        "GRANT SELECT ON ads.* TO analyst",
        "GRANT SELECT ON rt.* TO analyst",
    ]
    assert ["readonly", "1"] in found["profile"]
    pipeline = "\n".join(found["pipeline"])
    assert "KAFKA" in pipeline
    for database in sorted(project_databases()):
        assert f" ON {database}.* TO pipeline" in pipeline, database
    assert "CREATE USER" not in pipeline and "IMPERSONATE" not in pipeline
    assert found["display_name"] == "classpulse"  # config.d is read too


# The preheat's retry check (clickhouse/preheat/batch_rows.sql) reads its five tables through
# the merge('dim', ...) table function. merge() skips the tables its user cannot SHOW and
# refuses those it cannot SELECT; it needs no CREATE TEMPORARY TABLE (allowed read-only).
# Run as a user holding exactly the pipeline's grants: it creates the tables and counts a row
# written to each of them.
BATCH_TABLES = [
    "preheat_placement",
    "live_room",
    "org_node",
    "room_membership",
    "preheat_lesson_log",
]
PIPELINE_PROBE = """
import json, sys
import chdb
connection = chdb.connect("file::memory:?config-file=" + sys.argv[1])
cursor = connection.cursor()
cursor.execute("CREATE DATABASE dim")
for table in sys.argv[3].split(","):
    cursor.execute(f"CREATE TABLE dim.{table} (lesson_id UInt64, run_id UInt64) ENGINE = Memory")
    cursor.execute(f"INSERT INTO dim.{table} VALUES (11, 7), (12, 7), (11, 8)")
cursor.execute("SET param_lessons = '[11]'")
cursor.execute("SET param_run_id = '7'")
cursor.execute(open(sys.argv[2]).read())
print(json.dumps({"written": cursor.fetchall()[0][0]}))
"""


def as_pipeline_xml() -> str:
    """A `default` holding exactly the pipeline's grants: chDB runs queries as `default`."""
    queries = "".join(f"<query>{grant}</query>" for grant in grants(users().find("users/pipeline")))
    return (
        "<clickhouse><users><default><password/><networks><ip>::/0</ip></networks>"
        f"<profile>default</profile><quota>default</quota><grants>{queries}</grants>"
        "</default></users></clickhouse>"
    )


def test_the_pipeline_may_read_the_preheat_batch_through_merge(
    tmp_path: Path, services: dict
) -> None:
    batch_rows = ROOT / "clickhouse" / "preheat" / "batch_rows.sql"
    assert all(table in batch_rows.read_text() for table in BATCH_TABLES)
    found = probe_clickhouse(
        tmp_path,
        services["clickhouse"]["environment"],
        inspector=as_pipeline_xml(),
        probe=PIPELINE_PROBE,
        arguments=(str(batch_rows), ",".join(BATCH_TABLES)),
    )
    assert found == {"written": len(BATCH_TABLES)}
