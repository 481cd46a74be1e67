"""The operator's view of help triage: requests still needing someone, read from the warehouse.

``open_requests`` reads the real-time triage log (``rt.help_request_triage_log``, the upsert log
resolved with FINAL) with bound parameters. A request is *open* when a person must act or the
machine has not finished (LIVE_CLASSROOM_CONTRACT.md A.4): a manual decision, an automatic one
whose verification window has not closed yet, or one escalated to a supervisor. Resolved and
merged requests are closed. "Now" is the stream's own progress (the greatest decision time in
the log), so a replayed day reads as it did live.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WINDOW_MS = 30_000

QUERY = """
SELECT
    request_id, source, room_id, user_id, role, request_time, decided_at, outcome, category,
    action, target_user_id, verify_start, verify_status, lesson_id, dim_status,
    max(decided_at) OVER () AS stream_now
FROM rt.help_request_triage_log FINAL
WHERE request_time >= {since:Int64}
    AND ({room:UInt64} = 0 OR room_id = {room:UInt64})
ORDER BY request_time DESC, request_id
"""


@dataclass(frozen=True)
class OpenRequest:
    request_id: str
    source: str
    room_id: int
    user_id: int
    role: str
    request_time: int
    decided_at: int
    category: str
    action: str
    target_user_id: int
    state: str  # manual | verifying | escalated
    lesson_id: int
    dim_status: str
    age_ms: int


@dataclass(frozen=True)
class TriageSnapshot:
    stream_now: int | None
    open: list[OpenRequest]
    counts: dict[str, int]


def state_of(outcome: str, verify_start: int | None, verify_status: str, now: int) -> str:
    """manual, verifying, escalated (open) or resolved, merged (closed)."""
    if outcome == "merged":
        return "merged"
    if outcome == "manual":
        return "manual"
    # the verdict is known once the verification window [v, v + 30 s) has closed
    if verify_start is not None and now < verify_start + WINDOW_MS:
        return "verifying"
    return "resolved" if verify_status == "resolved" else "escalated"


def open_requests(
    client: Any, *, since_ms: int, room_id: int = 0, limit: int = 30
) -> TriageSnapshot:
    """Open requests since ``since_ms`` (epoch ms of request_time), newest first, at most
    ``limit``; ``counts`` holds every state of the period."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if room_id < 0:
        raise ValueError("room_id must be a room id (>= 0; 0 = every room)")
    result = client.query(QUERY, parameters={"since": since_ms, "room": room_id})
    rows = [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]
    now = max((int(row["stream_now"]) for row in rows), default=None)
    counts = {state: 0 for state in ("manual", "verifying", "escalated", "resolved", "merged")}
    found: list[OpenRequest] = []
    for row in rows:
        state = state_of(row["outcome"], row["verify_start"], row["verify_status"], now or 0)
        counts[state] += 1
        if state in ("manual", "verifying", "escalated") and len(found) < limit:
            found.append(
                OpenRequest(
                    request_id=row["request_id"],
                    source=row["source"],
                    room_id=int(row["room_id"]),
                    user_id=int(row["user_id"]),
                    role=row["role"],
                    request_time=int(row["request_time"]),
                    decided_at=int(row["decided_at"]),
                    category=row["category"],
                    action=row["action"],
                    target_user_id=int(row["target_user_id"]),
                    state=state,
                    lesson_id=int(row["lesson_id"]),
                    dim_status=row["dim_status"],
                    age_ms=(now or 0) - int(row["request_time"]),
                )
            )
    return TriageSnapshot(now, found, counts)
