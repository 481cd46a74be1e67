"""CLI command groups, one module each; ``register_all`` wires them into ``classpulse``.

Adding a command: write ``commands/<name>.py`` exposing a click command or group called
``command`` and add the module name to ``MODULES``.
"""

from __future__ import annotations

import importlib

import click

MODULES = [
    "warehouse",
    "kafka",
    "produce",
    "sql",
    "doctor",
    "demo",
    "bench",
    "generate",
    "flink",
    "load",
    "build",
    "run",
    "preheat",
    "quality",
    "status",
    "report",
    "airflow",
    "rooms",
    "triage",
]


def register_all(group: click.Group) -> None:
    for name in MODULES:
        module = importlib.import_module(f"classpulse.commands.{name}")
        group.add_command(module.command)
