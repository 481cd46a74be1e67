"""Dockerfiles and images, checked without Docker: pinned, secret-free, in step with the project.

The images cannot be built here (no engine, no Maven Central); these are the checks a
linter would make, plus the ones tying the images to uv.lock, the Makefile and each other.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from importlib.metadata import version

import yaml
from compose_stack import COMPOSE_FILE, ROOT

APP_DOCKERFILE = ROOT / "docker" / "app" / "Dockerfile"
FLINK_DOCKERFILE = ROOT / "docker" / "flink" / "Dockerfile"
DOCKERFILES = [APP_DOCKERFILE, FLINK_DOCKERFILE]
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|FERNET|CREDENTIAL|API_?KEY", re.I)


def instructions(path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
    text = "\n".join(lines).replace("\\\n", " ")
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
        for line in text.splitlines()
        if line.strip()
    ]


def build_args(path) -> dict[str, str]:
    args = {}
    for instruction, arguments in instructions(path):
        if instruction == "ARG" and "=" in arguments:
            name, _, default = arguments.partition("=")
            args[name.strip()] = default.strip()
    return args


def base_images(path) -> list[str]:
    return [
        arguments.split()[0]
        for instruction, arguments in instructions(path)
        if instruction == "FROM"
    ]


def test_images_are_pinned_by_tag(services: dict) -> None:
    pulled = [service["image"] for service in services.values() if "build" not in service]
    for image in [*pulled, *(image for path in DOCKERFILES for image in base_images(path))]:
        name, _, tag = image.rpartition(":")
        assert name and "/" not in tag, f"{image} has no tag"
        assert tag != "latest" and re.search(r"\d", tag), f"{image} is not pinned"


def test_the_kafka_connector_is_pinned_by_version_and_sha256() -> None:
    pins = {
        path: {
            key: value
            for key, value in build_args(path).items()
            if key.startswith("KAFKA_CONNECTOR_")
        }
        for path in DOCKERFILES
    }
    assert pins[APP_DOCKERFILE] == pins[FLINK_DOCKERFILE], (
        "the client and the cluster need the same jar"
    )
    pin = pins[FLINK_DOCKERFILE]
    match = re.fullmatch(r"\d+\.\d+\.\d+-(\d+)\.(\d+)", pin["KAFKA_CONNECTOR_VERSION"])
    assert match, pin
    assert re.fullmatch(r"[0-9a-f]{64}", pin["KAFKA_CONNECTOR_SHA256"]), pin
    flink_major, flink_minor = map(int, version("apache-flink").split(".")[:2])
    built_for = (int(match.group(1)), int(match.group(2)))
    assert built_for[0] == flink_major and built_for[1] <= flink_minor, built_for
    for path in DOCKERFILES:
        text = path.read_text()
        assert "org/apache/flink/flink-sql-connector-kafka/${KAFKA_CONNECTOR_VERSION}/" in text
        assert '"${KAFKA_CONNECTOR_SHA256}  ' in text and "| sha256sum -c -" in text
        assert build_args(path)["MAVEN_CENTRAL"] == "https://repo1.maven.org/maven2"


def test_the_cluster_runs_the_flink_of_the_pyflink_client() -> None:
    (image,) = base_images(FLINK_DOCKERFILE)
    assert image.startswith(f"flink:{version('apache-flink')}-"), image


def test_the_app_image_is_the_project_from_its_lock() -> None:
    (image,) = base_images(APP_DOCKERFILE)
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert image.startswith("python:3.11-") and ">=3.11" in requires
    makefile_uv = re.search(r"^UV_VERSION \?= (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert build_args(APP_DOCKERFILE)["UV_VERSION"] == makefile_uv.group(1)
    runs = [
        arguments for instruction, arguments in instructions(APP_DOCKERFILE) if instruction == "RUN"
    ]
    assert "uv sync --frozen --no-dev --no-install-project" in runs
    assert "uv sync --frozen --no-dev" in runs


def test_requirements_outside_the_lock_are_pinned_with_hashes() -> None:
    lock = (ROOT / "uv.lock").read_text()
    text = (ROOT / "docker" / "app" / "requirements-postgres.txt").read_text()
    requirements = re.split(r"\n(?=[a-z])", re.sub(r"(?m)^#.*\n", "", text).strip())
    for requirement in requirements:
        name = re.match(r"([a-z0-9-]+)==\d", requirement)
        assert name, requirement
        assert f'name = "{name.group(1)}"' not in lock, f"{name.group(1)} is in uv.lock already"
        assert len(re.findall(r"--hash=sha256:[0-9a-f]{64}", requirement)) >= 1, requirement
    assert "--require-hashes -r /tmp/requirements-postgres.txt" in APP_DOCKERFILE.read_text()


def test_no_secret_is_written_into_an_image() -> None:
    for path in DOCKERFILES:
        for instruction, arguments in instructions(path):
            if instruction in {"ARG", "ENV"}:
                for name in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", arguments):
                    assert not SECRET_NAME.search(name), f"{path.name}: {instruction} {name}"


def test_every_secret_in_the_compose_file_comes_from_a_required_variable() -> None:
    raw = yaml.safe_load(COMPOSE_FILE.read_text())  # anchors merged, nothing interpolated
    for name, service in raw["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE"):
                assert re.search(r"\$\{[A-Z_]+:\?[^}]+\}", str(value)), f"{name}: {key}={value}"


def test_the_build_context_admits_no_local_state_or_secrets() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*", "the app build context is an allow-list"
    admitted = {pattern[1:] for pattern in patterns if pattern.startswith("!")}
    assert not admitted & {".env", ".venv", "var", ".cache", ".git", "tests"}
    assert "docker/app" in admitted  # airflow-init.sh, requirements-postgres.txt


def test_entrypoint_scripts_are_valid_executable_bash() -> None:
    scripts = sorted((ROOT / "docker").rglob("*.sh"))
    assert scripts
    for script in scripts:
        assert os.access(script, os.X_OK), f"{script} is not executable"
        subprocess.run(["bash", "-n", str(script)], check=True)
