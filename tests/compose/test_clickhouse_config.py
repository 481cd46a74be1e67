"""ClickHouse server files of the compose stack: well-formed, mounted, and the access model.

`default` is gone, every password comes from the environment, the analyst is read-only on the
marts (ads, rt) and the pipeline user owns every database the project creates.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import yaml
from compose_stack import ROOT

from classpulse.config import VARIABLES
from classpulse.warehouse import LAYER_DATABASES

CLICKHOUSE_DIR = ROOT / "docker" / "clickhouse"
USERS_FILE = CLICKHOUSE_DIR / "users.d" / "z-classpulse-users.xml"
CONFIG_FILE = CLICKHOUSE_DIR / "config.d" / "classpulse.xml"


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
    granted = {
        m.group(1) for g in grants(pipeline) if (m := re.fullmatch(r"GRANT ALL ON (\w+)\.\*", g))
    }
    assert project_databases() <= granted, sorted(project_databases() - granted)
    assert "GRANT READ, WRITE ON KAFKA" in grants(pipeline)


def test_the_server_time_zone_is_the_embedded_warehouse_one() -> None:
    config = ElementTree.parse(CONFIG_FILE).getroot()
    assert config.findtext("timezone") == VARIABLES["WAREHOUSE_TIMEZONE"][0]
