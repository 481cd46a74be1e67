"""Fixtures: docker-compose itself and the stack as it renders docker-compose.yml."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from compose_stack import INSTALL_HINT, complete_environment, render


@pytest.fixture(scope="session")
def docker_compose() -> str:
    path = shutil.which("docker-compose")
    if path is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return path


@pytest.fixture(scope="session")
def empty_env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stands in for .env, so a developer's own .env never changes what the tests see."""
    path = tmp_path_factory.mktemp("compose") / "empty.env"
    path.write_text("")
    return path


@pytest.fixture(scope="session")
def rendered(docker_compose: str, empty_env_file: Path) -> dict:
    """The stack as docker-compose resolves it (anchors merged, variables filled)."""
    result = render(docker_compose, complete_environment(), empty_env_file)
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    return yaml.safe_load(result.stdout)


@pytest.fixture(scope="session")
def services(rendered: dict) -> dict[str, dict]:
    return rendered["services"]
