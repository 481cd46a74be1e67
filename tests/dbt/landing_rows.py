"""Landing rows directly, as the loader does (JSON lines into a landing table)."""

from __future__ import annotations

import json
from typing import Any

from clickhouse_connect.driver.client import Client


def insert_rows(client: Client, table: str, rows: list[dict[str, Any]]) -> None:
    """Land ``rows`` as the loader does (JSON lines into the landing table)."""
    data = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()
    client.raw_insert(
        table,
        insert_block=data,
        fmt="JSONEachRow",
        settings={"input_format_skip_unknown_fields": 0, "date_time_input_format": "best_effort"},
    )
