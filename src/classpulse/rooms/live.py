"""Who is online in which room right now: ``classpulse rooms now``.

The rule of LIVE_CLASSROOM_CONTRACT.md B.2 applied at one instant ``at``: a user is online iff
some ``enter``/``beat`` of one of its terminals at t has t <= at < t + T and no ``leave`` of that
terminal in [t, at] (a leave at the beat's instant wins). It runs in the warehouse over the
landed cleaned heartbeats (``ods.room_heartbeat_clean``, what the stream accepted, fed
continuously by the landing service), so open sessions count: the rt session mart only holds
sessions that have ended. ``at`` defaults to the newest landed heartbeat time (the heartbeat
service's clock as far as the warehouse has seen it, which also works on a replayed day); every
value reaches the query as a bound parameter, never as SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from classpulse.flink.variables import resolve_variables

HEARTBEATS = "ods.room_heartbeat_clean"
RT_MINUTES = "rt.room_concurrency_1min_log"


def presence_timeout_ms() -> int:
    """T in ms, from the variable the Flink presence job and dbt read (PRESENCE_TIMEOUT_SECONDS)."""
    value = resolve_variables().lookup("PRESENCE_TIMEOUT_SECONDS")
    seconds = int(value or 30)
    if not 0 < seconds <= 60:
        raise ValueError(f"PRESENCE_TIMEOUT_SECONDS must be in 1..60, got {seconds}")
    return seconds * 1000


@dataclass(frozen=True)
class RoomNow:
    bid: int
    room_id: str
    users_online: int
    terminals_online: int
    # the newest final minute of rt.room_concurrency_1min at or before the instant, if any
    rt_minute_ms: int | None = None
    rt_users_present: int | None = None
    rt_peak_online: int | None = None


@dataclass(frozen=True)
class UserNow:
    bid: int
    room_id: str
    uid: int
    terminals: tuple[str, ...]
    last_heartbeat_ms: int


@dataclass(frozen=True)
class LiveNow:
    at_ms: int | None  # None: no heartbeat landed yet
    timeout_ms: int
    rooms: list[RoomNow]
    users: list[UserNow]  # only when one room was asked for


# The covering beats at {at}: one row per terminal online, with its newest covering beat.
_ONLINE_TERMINALS = f"""
select b.bid as bid, b.room_id as room_id, b.uid as uid, b.terminal as terminal,
    max(b.server_time) as last_beat
from {HEARTBEATS} as b
where b.kind != 'leave'
    and b.server_time <= {{at:Int64}} and b.server_time > {{at:Int64}} - {{timeout:Int64}}
    and ({{room:String}} = '' or b.room_id = {{room:String}})
    and (b.bid, b.room_id, b.uid, b.terminal, b.server_time) not in (
        -- a beat is cut by a leave of its terminal in [t, at]
        select c.bid, c.room_id, c.uid, c.terminal, c.server_time
        from {HEARTBEATS} as c
        inner join (
            select bid, room_id, uid, terminal, server_time as leave_time
            from {HEARTBEATS}
            where kind = 'leave' and server_time <= {{at:Int64}}
                and server_time > {{at:Int64}} - {{timeout:Int64}}
        ) as l on l.bid = c.bid and l.room_id = c.room_id and l.uid = c.uid
            and l.terminal = c.terminal
        where c.kind != 'leave' and l.leave_time >= c.server_time
            and c.server_time > {{at:Int64}} - {{timeout:Int64}}
    )
group by bid, room_id, uid, terminal
"""


def latest_heartbeat_ms(client: Client) -> int | None:
    rows = client.query(f"select count(), max(server_time) from {HEARTBEATS}").result_rows
    return int(rows[0][1]) if rows and rows[0][0] else None


def live_now(client: Client, at_ms: int | None = None, room_id: str | None = None) -> LiveNow:
    """Rooms with users online at ``at_ms`` (default: newest heartbeat), busiest first; with
    ``room_id``, that room's users and their terminals too."""
    timeout = presence_timeout_ms()
    at = at_ms if at_ms is not None else latest_heartbeat_ms(client)
    if at is None:
        return LiveNow(None, timeout, [], [])
    parameters = {"at": at, "timeout": timeout, "room": room_id or ""}
    rooms = client.query(
        f"""
        select bid, room_id, uniqExact(uid) as users, count() as terminals
        from ({_ONLINE_TERMINALS})
        group by bid, room_id
        order by users desc, bid, room_id
        """,
        parameters=parameters,
    ).result_rows
    users: list[UserNow] = []
    if room_id:
        rows = client.query(
            f"""
            select bid, room_id, uid, arraySort(groupArray(toString(terminal))), max(last_beat)
            from ({_ONLINE_TERMINALS})
            group by bid, room_id, uid
            order by bid, uid
            """,
            parameters=parameters,
        ).result_rows
        users = [UserNow(int(b), str(r), int(u), tuple(t), int(last)) for b, r, u, t, last in rows]
    minutes = latest_rt_minutes(client, at, [(int(b), str(r)) for b, r, _, _ in rooms])
    return LiveNow(
        at,
        timeout,
        [
            RoomNow(int(b), str(r), int(n), int(t), *minutes.get((int(b), str(r)), (None,) * 3))
            for b, r, n, t in rooms
        ],
        users,
    )


def latest_rt_minutes(
    client: Client, at: int, rooms: list[tuple[int, str]]
) -> dict[tuple[int, str], tuple[int, int, int]]:
    """Per room, the real-time mart's newest minute that ended by ``at``: (start ms, users
    present, peak online). Empty when the rt mart has not been landed."""
    exists = client.query(
        "select count() from system.tables where database = 'rt' and name = {name:String}",
        parameters={"name": RT_MINUTES.split(".", 1)[1]},
    ).result_rows[0][0]
    if not exists or not rooms:
        return {}
    rows = client.query(
        f"""
        select bid, room_id, argMax(start_time_ms, start_time_ms), argMax(users_present,
            start_time_ms), argMax(peak_online, start_time_ms)
        from {RT_MINUTES} final
        where start_time_ms + 60000 <= {{at:Int64}}
            and (bid, room_id) in {{rooms:Array(Tuple(Int64, String))}}
        group by bid, room_id
        """,
        parameters={"at": at, "rooms": rooms},
    ).result_rows
    return {(int(b), str(r)): (int(m), int(u), int(p)) for b, r, m, u, p in rows}
