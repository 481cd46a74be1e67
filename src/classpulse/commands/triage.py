"""``classpulse triage``: help-request triage (LIVE_CLASSROOM_CONTRACT.md A.4).

``triage watch`` redraws the open help requests from the warehouse every few seconds.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from classpulse.config import load_settings

STATE_STYLE = {"manual": "bold red", "escalated": "red", "verifying": "yellow"}


@click.group("triage")
def command() -> None:
    """Help-request triage of the live classrooms (VIPKID real-time labels)."""


def render(snapshot, since_minutes: int, room: int) -> Group:
    from classpulse.classroom_help.watch import TriageSnapshot

    assert isinstance(snapshot, TriageSnapshot)
    now = (
        datetime.fromtimestamp(snapshot.stream_now / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        if snapshot.stream_now is not None
        else "no decisions yet"
    )
    counts = snapshot.counts
    header = Text(
        f"stream at {now} · last {since_minutes} min"
        + (f" · room {room}" if room else "")
        + f" · open: {counts['manual']} manual, {counts['escalated']} escalated, "
        f"{counts['verifying']} verifying · closed: {counts['resolved']} resolved, "
        f"{counts['merged']} merged"
    )
    table = Table(expand=True)
    for name in (
        "request",
        "room",
        "user",
        "role",
        "category",
        "action",
        "target",
        "state",
        "age s",
        "lesson",
        "dim",
    ):
        table.add_column(name, no_wrap=True)
    for item in snapshot.open:
        table.add_row(
            item.request_id,
            str(item.room_id),
            str(item.user_id),
            item.role,
            item.category,
            item.action or "-",
            str(item.target_user_id or "-"),
            Text(item.state, style=STATE_STYLE.get(item.state, "")),
            str(item.age_ms // 1000),
            str(item.lesson_id or "-"),
            item.dim_status,
        )
    return Group(header, table)


@command.command("watch")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.5, max=300),
    default=2.0,
    show_default=True,
    help="Seconds between refreshes (0.5 to 300).",
)
@click.option(
    "--since-minutes",
    type=click.IntRange(min=1, max=7 * 24 * 60),
    default=30,
    show_default=True,
    help="Show requests pressed in the last N minutes of the stream's time.",
)
@click.option(
    "--room",
    type=click.IntRange(min=0),
    default=0,
    help="Only this room_id (0 = every room).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=1000),
    default=30,
    show_default=True,
    help="At most this many open requests, newest first.",
)
@click.option("--once", is_flag=True, help="Print one snapshot and exit (scripts, tests).")
def watch_command(interval: float, since_minutes: int, room: int, limit: int, once: bool) -> None:
    """Live view of the help requests that still need someone.

    Reads the real-time triage log (rt.help_request_triage_log, as Flink upserts it by
    request_id) from the configured warehouse and redraws every --interval seconds; Ctrl-C
    stops. Open means: a manual decision (a supervisor must step in), an automatic action
    still in its verification window ("verifying"), or an action that did not fix the problem
    ("escalated"). Resolved and merged requests are only counted. Times are the stream's:
    "age" is measured from the newest decision in the log, so a replayed day reads as live.
    Run it beside `classpulse demo --streaming`. Query parameters are bound, never spliced.
    """
    from classpulse.classroom_help.watch import open_requests
    from classpulse.warehouse import get_client

    settings = load_settings()
    client = get_client(settings)
    console = Console()

    def snapshot():
        # the window is relative to the stream's progress: first find it, then read the period
        latest = client.query("SELECT max(decided_at) FROM rt.help_request_triage_log").result_rows[
            0
        ][0]
        since = int(latest or 0) - since_minutes * 60_000
        return open_requests(client, since_ms=since, room_id=room, limit=limit)

    try:
        if once:
            console.print(render(snapshot(), since_minutes, room))
            return
        with Live(render(snapshot(), since_minutes, room), console=console, screen=False) as live:
            while True:
                time.sleep(interval)
                live.update(render(snapshot(), since_minutes, room))
    except KeyboardInterrupt:
        pass
    finally:
        client.close()
