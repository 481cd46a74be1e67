"""``classpulse rooms``: room presence and message loss (LIVE_CLASSROOM_CONTRACT.md B).

``rooms generate`` writes a day of ``room_heartbeat`` and ``room_push_ack`` with the expected
marts (:mod:`classpulse.rooms.generator`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from classpulse.config import load_settings
from classpulse.rooms.generator import RoomsOptions, write_rooms_day


@click.group("rooms")
def command() -> None:
    """Room presence, concurrency and message loss (Tencent-style rooms)."""


@command.command("generate")
@click.option("--start", required=True, help="Business day, YYYY-MM-DD.")
@click.option(
    "--topics",
    "topics_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Topics root (default: CLASSPULSE_TOPICS_DIR).",
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--scale",
    type=float,
    default=1.0,
    show_default=True,
    help="1.0 = a 60k-user room; tests use 0.001.",
)
def generate_command(start: str, topics_dir: Path | None, seed: int, scale: float) -> None:
    """Write a day of room heartbeats and push reports, with the expected marts."""
    day = datetime.strptime(start, "%Y-%m-%d").date()
    root = topics_dir or load_settings().topics_dir
    result = write_rooms_day(root, RoomsOptions(start=day, seed=seed, scale=scale))
    click.echo(
        f"{len(result.heartbeats)} heartbeats, {len(result.acks)} push reports, "
        f"{len(result.sessions)} sessions in {len(result.rooms)} rooms -> {root}"
    )
