"""``classpulse rooms``: room presence and message loss (LIVE_CLASSROOM_CONTRACT.md B).

``rooms generate`` writes a day of ``room_heartbeat`` and ``room_push_ack`` with the expected
marts (:mod:`classpulse.rooms.generator`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from classpulse.commands.options import parse_day
from classpulse.config import load_settings
from classpulse.rooms.generator import RoomsOptions, write_rooms_day


@click.group("rooms")
def command() -> None:
    """Room presence, concurrency and message loss (Tencent-style rooms)."""


@command.command("generate")
@click.option(
    "--start", required=True, callback=parse_day, metavar="YYYY-MM-DD", help="Business day."
)
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
def generate_command(start: date, topics_dir: Path | None, seed: int, scale: float) -> None:
    """Write a day of room heartbeats and push reports, with the expected marts."""
    day = start
    root = topics_dir or load_settings().topics_dir
    result = write_rooms_day(root, RoomsOptions(start=day, seed=seed, scale=scale))
    click.echo(
        f"{len(result.heartbeats)} heartbeats, {len(result.acks)} push reports, "
        f"{len(result.sessions)} sessions in {len(result.rooms)} rooms -> {root}"
    )


@command.command("now")
@click.option("--room", "room_id", default=None, help="One room: list its online users.")
@click.option(
    "--at",
    "at_ms",
    type=int,
    default=None,
    help="Instant, epoch ms (default: the newest landed heartbeat).",
)
@click.option("--limit", type=int, default=20, show_default=True, help="Rooms listed.")
def now_command(room_id: str | None, at_ms: int | None, limit: int) -> None:
    """Who is online in which room right now (contract B.2 at one instant, from the warehouse),
    beside the newest final minute of the real-time mart rt.room_concurrency_1min."""
    from zoneinfo import ZoneInfo

    from rich.console import Console
    from rich.table import Table

    from classpulse.rooms.generator import format_time
    from classpulse.rooms.live import live_now
    from classpulse.warehouse import get_client

    settings = load_settings()
    client = get_client(settings)
    try:
        live = live_now(client, at_ms=at_ms, room_id=room_id)
    finally:
        client.close()
    console = Console()
    if live.at_ms is None:
        console.print("no room heartbeat in the warehouse yet (ods.room_heartbeat_clean is empty)")
        return
    at_text = format_time(live.at_ms, ZoneInfo(settings.timezone))
    rooms = Table(title=f"online at {at_text} (T = {live.timeout_ms // 1000} s)")
    for column in (
        "bid",
        "room",
        "users online",
        "terminals online",
        "rt minute",
        "present",
        "peak",
    ):
        rooms.add_column(column)
    zone = ZoneInfo(settings.timezone)
    for room in live.rooms[:limit]:
        minute = "–" if room.rt_minute_ms is None else format_time(room.rt_minute_ms, zone)[11:16]
        rooms.add_row(
            str(room.bid),
            room.room_id,
            str(room.users_online),
            str(room.terminals_online),
            minute,
            "–" if room.rt_users_present is None else str(room.rt_users_present),
            "–" if room.rt_peak_online is None else str(room.rt_peak_online),
        )
    console.print(rooms)
    if room_id:
        users = Table(title=f"room {room_id}: users online")
        for column in ("bid", "uid", "terminals", "last heartbeat"):
            users.add_column(column)
        for user in live.users:
            users.add_row(
                str(user.bid),
                str(user.uid),
                ",".join(user.terminals),
                format_time(user.last_heartbeat_ms, ZoneInfo(settings.timezone)),
            )
        console.print(users)
