"""docker-compose.yml: it validates, refuses to start without its secrets, and wires the stack.

Everything is read from ``docker-compose config`` (the file as docker-compose resolves it),
and checked against the project's own code where the two must agree: the CLI commands the
services run, the topics the generator writes, the settings every tool reads.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import click
import pytest
from compose_stack import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    ROOT,
    complete_environment,
    compose_references,
    render,
    required_variables,
)

from classpulse.cli import main
from classpulse.config import load_settings
from classpulse.loader import read_landing_tables
from classpulse.topics import TOPICS

SECRETS = [
    "AIRFLOW_ADMIN_PASSWORD",
    "AIRFLOW_API_SECRET_KEY",
    "AIRFLOW_FERNET_KEY",
    "AIRFLOW_JWT_SECRET",
    "CLICKHOUSE_ANALYST_PASSWORD",
    "CLICKHOUSE_PIPELINE_PASSWORD",
    "POSTGRES_PASSWORD",
]
AIRFLOW_COMPONENTS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
}
APP_SERVICES = ["init", "landing", "flink-jobs", "generator", "airflow-init", *AIRFLOW_COMPONENTS]
ONE_SHOTS = {"kafka-init", "init", "flink-jobs", "generator", "airflow-init"}
HEALTHY = "service_healthy"
DONE = "service_completed_successfully"


def mounts(service: dict) -> dict[str, str]:
    """source (volume name or host path) -> path in the container."""
    found = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):  # long syntax (Compose v2 output)
            found[volume["source"]] = volume["target"]
        else:
            source, target = volume.split(":")[:2]
            found[source] = target
    return found


def cli_params(argv: list[str]) -> dict:
    """Parse ``classpulse <argv>`` with the real CLI, without running it."""
    command: click.Command = main
    arguments = list(argv)
    while isinstance(command, click.Group):
        name, *arguments = arguments
        assert name in command.commands, f"`classpulse` has no command {name!r}"
        command = command.commands[name]
    return command.make_context(command.name or "", arguments).params


def test_the_file_validates_with_every_required_variable_set(services: dict) -> None:
    assert set(services) == {
        "kafka",
        "kafka-init",
        "clickhouse",
        "postgres",
        "jobmanager",
        "taskmanager",
        *APP_SERVICES,
    }


def test_the_required_variables_are_exactly_the_secrets() -> None:
    assert required_variables() == SECRETS


@pytest.mark.parametrize("name", SECRETS)
def test_a_missing_secret_stops_compose_and_names_it(
    name: str, docker_compose: str, empty_env_file: Path
) -> None:
    environment = complete_environment()
    del environment[name]
    result = render(docker_compose, environment, empty_env_file)
    assert result.returncode != 0, f"compose accepted a stack without {name}"
    assert (
        result.stderr.strip().splitlines()[-1].endswith(f"{name} is required (see .env.example)")
    ), result.stderr


def test_an_empty_secret_counts_as_missing(docker_compose: str, empty_env_file: Path) -> None:
    result = render(
        docker_compose, {**complete_environment(), "POSTGRES_PASSWORD": ""}, empty_env_file
    )
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD is required" in result.stderr.strip().splitlines()[-1]


def test_env_example_documents_every_compose_variable_and_holds_no_secret() -> None:
    text = ENV_EXAMPLE.read_text()
    assert "docker-compose stack" in text
    documented = dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", text, flags=re.M))
    for name, (operator, argument) in compose_references(COMPOSE_FILE.read_text()).items():
        assert name in documented, f"{name} is used by docker-compose.yml but not in .env.example"
        expected = "" if operator == ":?" else argument
        assert documented[name] == expected, name


def test_env_example_alone_does_not_start_the_stack(docker_compose: str) -> None:
    result = render(docker_compose, {"PATH": complete_environment()["PATH"]}, ENV_EXAMPLE)
    assert result.returncode != 0
    assert "is required (see .env.example)" in result.stderr


def test_ports_are_published_on_the_host_loopback_only(services: dict) -> None:
    published = {}
    for name, service in services.items():
        for port in service.get("ports", []):
            if isinstance(port, dict):
                host_ip, target = port.get("host_ip"), port["target"]
            else:
                host_ip, _, target = str(port).split("/")[0].split(":")
            assert host_ip == "127.0.0.1", f"{name} publishes {port} beyond loopback"
            published[name] = int(target)
    assert published == {
        "kafka": 9094,
        "clickhouse": 8123,
        "jobmanager": 8081,
        "airflow-apiserver": 8080,
    }


def test_start_order(services: dict) -> None:
    airflow = {HEALTHY: ["postgres", "clickhouse"], DONE: ["init", "airflow-init"]}
    expected = {
        "kafka-init": {HEALTHY: ["kafka"]},
        "taskmanager": {HEALTHY: ["jobmanager"]},
        "init": {HEALTHY: ["clickhouse"], DONE: ["kafka-init"]},
        "landing": {DONE: ["init"]},
        "flink-jobs": {HEALTHY: ["jobmanager", "taskmanager"], DONE: ["kafka-init"]},
        "generator": {DONE: ["init", "flink-jobs"]},
        "airflow-init": {HEALTHY: ["postgres"]},
        **dict.fromkeys(AIRFLOW_COMPONENTS, airflow),
    }
    for name, service in services.items():
        conditions: dict[str, list[str]] = {}
        for dependency, spec in service.get("depends_on", {}).items():
            conditions.setdefault(spec["condition"], []).append(dependency)
        want = {condition: sorted(names) for condition, names in expected.get(name, {}).items()}
        assert {c: sorted(n) for c, n in conditions.items()} == want, name


def test_every_condition_can_be_met(services: dict) -> None:
    for name, service in services.items():
        for dependency, spec in service.get("depends_on", {}).items():
            target = services[dependency]
            if spec["condition"] == HEALTHY:
                assert "healthcheck" in target, f"{name} waits for {dependency}'s health check"
                assert not target["healthcheck"].get("disable"), dependency
            else:
                assert dependency in ONE_SHOTS, f"{name} waits for {dependency} to finish"


def test_long_running_services_restart_and_report_health(services: dict) -> None:
    for name, service in services.items():
        if name in ONE_SHOTS:
            assert service.get("restart", "no") == "no", name
        else:
            assert service["restart"] == "unless-stopped", name
            assert service["healthcheck"]["test"], name


def test_data_lives_on_named_volumes(rendered: dict, services: dict) -> None:
    airflow_logs = {name: "/opt/airflow/logs" for name in ["airflow-init", *AIRFLOW_COMPONENTS]}
    expected = {
        "kafka-data": {"kafka": "/var/lib/kafka/data"},
        "clickhouse-data": {"clickhouse": "/var/lib/clickhouse"},
        "postgres-data": {"postgres": "/var/lib/postgresql/data"},
        "flink-checkpoints": {"jobmanager": "/opt/flink/state", "taskmanager": "/opt/flink/state"},
        "airflow-logs": airflow_logs,
        "airflow-auth": {
            "airflow-init": "/opt/airflow/auth",
            "airflow-apiserver": "/opt/airflow/auth",
        },
    }
    assert set(rendered["volumes"]) == set(expected)
    for volume, where in expected.items():
        users = {name: mounts(s)[volume] for name, s in services.items() if volume in mounts(s)}
        assert users == where, volume


def test_services_write_where_their_volumes_are(services: dict) -> None:
    kafka = services["kafka"]
    assert kafka["environment"]["KAFKA_LOG_DIRS"] == mounts(kafka)["kafka-data"]
    for name in ("jobmanager", "taskmanager"):
        properties = flink_properties(services[name]["environment"]["FLINK_PROPERTIES"])
        state = mounts(services[name])["flink-checkpoints"]
        for key in ("execution.checkpointing.dir", "execution.checkpointing.savepoint-dir"):
            assert properties[key].startswith(f"file://{state}/"), (name, key)
    for name in ["airflow-init", *AIRFLOW_COMPONENTS]:
        environment = services[name]["environment"]
        assert (
            environment["AIRFLOW__LOGGING__BASE_LOG_FOLDER"]
            == mounts(services[name])["airflow-logs"]
        )
        assert (
            environment["AIRFLOW__CORE__DAGS_FOLDER"] == mounts(services[name])[str(ROOT / "dags")]
        )


def flink_properties(text: str) -> dict[str, str]:
    """The Flink image's FLINK_PROPERTIES format: one ``key: value`` per line."""
    pairs = (line.split(":", 1) for line in text.splitlines() if line.strip())
    return {key.strip(): value.strip() for key, value in pairs}


def test_flink_cluster_and_client_agree(services: dict) -> None:
    jobmanager, taskmanager = services["jobmanager"], services["taskmanager"]
    assert jobmanager["command"] == "jobmanager" and taskmanager["command"] == "taskmanager"
    assert jobmanager["build"] == taskmanager["build"]
    for service in (jobmanager, taskmanager):
        assert service["environment"]["JOB_MANAGER_RPC_ADDRESS"] == "jobmanager"
    assert int(taskmanager["environment"]["TASK_MANAGER_NUMBER_OF_TASK_SLOTS"]) >= 1
    client = services["flink-jobs"]["environment"]
    host, port = client["CLASSPULSE_FLINK_JOBMANAGER"].split(":")
    assert (host, int(port)) == ("jobmanager", 8081)
    job_options = flink_properties(client["CLASSPULSE_FLINK_PROPERTIES"])
    cluster_options = flink_properties(jobmanager["environment"]["FLINK_PROPERTIES"])
    assert job_options["parallelism.default"] == cluster_options["parallelism.default"]
    assert job_options["execution.checkpointing.interval"]


def test_airflow_3_runs_its_split_components_on_postgres(services: dict) -> None:
    secrets = set()
    for name, subcommand in AIRFLOW_COMPONENTS.items():
        service = services[name]
        assert service["command"][:2] == ["airflow", subcommand], name
        environment = service["environment"]
        assert environment["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        database = urlsplit(environment["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        assert (database.scheme, database.hostname, database.path) == (
            "postgresql+psycopg2",
            "postgres",
            "/airflow",
        )
        execution_api = urlsplit(environment["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
        assert (execution_api.hostname, execution_api.port) == ("airflow-apiserver", 8080)
        secrets.add(
            (environment["AIRFLOW__API_AUTH__JWT_SECRET"], environment["AIRFLOW__CORE__FERNET_KEY"])
        )
    assert len(secrets) == 1, "every Airflow component needs the same JWT secret and Fernet key"
    assert services["airflow-apiserver"]["command"][-2:] == ["--port", "8080"]


def test_airflow_init_migrates_and_registers_the_admin(services: dict) -> None:
    init = services["airflow-init"]
    assert init["command"] == ["classpulse-airflow-init"]
    script = (ROOT / "docker/app/airflow-init.sh").read_text()
    assert "airflow db migrate" in script
    assert (
        "COPY docker/app/airflow-init.sh /usr/local/bin/classpulse-airflow-init"
        in (ROOT / "docker/app/Dockerfile").read_text()
    )
    environment = init["environment"]
    user = environment["AIRFLOW_ADMIN_USER"]
    assert environment["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == f"{user}:admin"
    passwords = Path(environment["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    for name in ("airflow-init", "airflow-apiserver"):
        assert mounts(services[name])["airflow-auth"] == str(passwords.parent), name
    assert all(
        "AIRFLOW_ADMIN_PASSWORD" not in services[name]["environment"] for name in AIRFLOW_COMPONENTS
    ), "only airflow-init needs the admin password"


def test_kafka_is_one_kraft_node_for_containers_and_the_host(services: dict) -> None:
    environment = services["kafka"]["environment"]
    assert environment["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert (
        environment["KAFKA_CONTROLLER_QUORUM_VOTERS"]
        == f"{environment['KAFKA_NODE_ID']}@kafka:9093"
    )
    advertised = environment["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert "PLAINTEXT://kafka:9092" in advertised
    assert "HOST://127.0.0.1:9092" in advertised  # the default CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS
    for name in APP_SERVICES:
        assert services[name]["environment"]["CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"


def test_kafka_init_creates_every_topic_the_stack_reads(services: dict) -> None:
    created = services["kafka-init"]["environment"]["TOPICS"].split()
    landing = {table.topic for table in read_landing_tables(ROOT)}
    assert sorted(created) == sorted(set(TOPICS) | landing)
    assert len(created) == len(set(created))


def test_the_landing_consumer_feeds_clickhouse(services: dict) -> None:
    """Production lands with the project's consumer (tested in tests/kafka), not the Kafka
    table engine: init creates the tables and lands what is there, `landing` follows."""
    for name, follow in (("init", False), ("landing", True)):
        command = services[name]["command"]
        assert command[0] == "classpulse"
        params = cli_params(command[1:])
        assert params["from_kafka"] and params["follow"] == follow
        assert not params["kafka_ddl"]
    assert services["landing"]["depends_on"]["init"]["condition"] == (
        "service_completed_successfully"
    )


def test_the_generator_produces_to_kafka_at_a_paced_rate(services: dict) -> None:
    generator = services["generator"]
    assert generator["profiles"] == ["demo"]
    params = cli_params(generator["command"][1:])
    assert params["kafka"] and params["rate"] == 200


def test_flink_jobs_run_the_kafka_connector_set(services: dict) -> None:
    command = services["flink-jobs"]["command"]
    assert command == ["classpulse", "flink", "run", "--env", "kafka", "--continuous"]
    if "flink" not in main.commands:
        pytest.skip(
            "`classpulse flink run` is not in the CLI yet; the command above is its contract"
        )
    cli_params(command[1:])


def test_every_tool_in_the_stack_uses_the_clickhouse_server(services: dict) -> None:
    environments = [
        {k: v for k, v in services[name]["environment"].items() if k.startswith("CLASSPULSE_")}
        for name in APP_SERVICES
    ]
    assert all(environment == environments[0] for environment in environments)
    settings = load_settings(environments[0])
    assert settings.clickhouse_url == "http://clickhouse:8123"
    assert not settings.is_embedded
    server = services["clickhouse"]["environment"]
    assert settings.clickhouse_password == server["CLICKHOUSE_PIPELINE_PASSWORD"]


def test_make_test_installs_docker_compose_before_the_tests() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "command -v docker-compose" in makefile
    assert "apt-get install -y -qq docker-compose" in makefile
    assert "test: $(STAMP) tools" in makefile  # `make test` alone sets it up
    assert "make test" in (ROOT / ".ci" / "run").read_text()
