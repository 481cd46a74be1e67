"""The compose stack's files and ``docker-compose config``, for tests/compose.

No Docker engine is needed: ``docker-compose config`` (Debian's docker-compose 1.29, which
.ci/run installs) parses, interpolates and validates the file without one. Imported by name
(``import compose_stack``), as pytest puts this folder on ``sys.path``.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
INSTALL_HINT = (
    "docker-compose is not installed; the compose tests need it (no Docker engine is needed): "
    "apt-get update && apt-get install -y docker-compose  (CI's .ci/run installs it)"
)

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; not $${...}.
_REFERENCE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def compose_references(text: str) -> dict[str, tuple[str, str]]:
    """Every variable the compose file interpolates: name -> (operator, default or message)."""
    references: dict[str, tuple[str, str]] = {}
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    for name, operator, argument in _REFERENCE.findall(code):
        previous = references.setdefault(name, (operator, argument))
        assert previous == (operator, argument), (
            f"${{{name}}} is written two ways in docker-compose.yml: {previous} and "
            f"{(operator, argument)}; one default or message per variable"
        )
    return references


def required_variables() -> list[str]:
    """The variables docker-compose.yml requires (``${NAME:?...}``): the secrets."""
    references = compose_references(COMPOSE_FILE.read_text())
    return sorted(name for name, (operator, _) in references.items() if operator == ":?")


def complete_environment() -> dict[str, str]:
    """A clean environment with a dummy value for every required variable."""
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(ROOT)}
    environment.update({name: f"dummy-{name.lower()}" for name in required_variables()})
    return environment


def render(
    docker_compose: str, environment: dict[str, str], env_file: Path
) -> subprocess.CompletedProcess[str]:
    """``docker-compose config`` of the repository's file with exactly this environment."""
    return subprocess.run(
        [docker_compose, "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
