"""Warehouse access for the report: one client, bound parameters, a catalog of tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from classpulse.config import Settings
from classpulse.report.model import CONTRACT_MARTS, REPORT_DATABASES, ReportError

if TYPE_CHECKING:
    import pandas as pd
    from clickhouse_connect.driver.client import Client


class MartReader:
    """The report's queries on one client: server-side parameters and a catalog of tables."""

    def __init__(self, client: Client, timezone: str) -> None:
        self.client = client
        self.timezone = timezone
        result = client.query(
            "SELECT database, name, engine FROM system.tables "
            "WHERE database IN {databases:Array(String)}",
            parameters={"databases": list(REPORT_DATABASES)},
        )
        self.engines: dict[str, str] = {
            f"{database}.{name}": engine for database, name, engine in result.result_rows
        }

    def has(self, *tables: str) -> bool:
        """True when every ``database.table`` exists."""
        return all(table in self.engines for table in tables)

    def frame(self, sql: str, **parameters: Any) -> pd.DataFrame:
        """A query's result as a DataFrame that keeps its columns when it has no rows."""
        import pandas as pd

        result = self.client.query(sql, parameters=parameters)
        return pd.DataFrame(result.result_rows, columns=list(result.column_names))

    def frame_of(self, table: str, sql: str, **parameters: Any) -> pd.DataFrame:
        """:meth:`frame` when ``table`` exists; an empty DataFrame when it does not."""
        if self.has(table):
            return self.frame(sql, **parameters)
        import pandas as pd

        return pd.DataFrame()

    def rows(self, sql: str, **parameters: Any) -> list[tuple[Any, ...]]:
        return list(self.client.query(sql, parameters=parameters).result_rows)

    def scalar(self, sql: str, **parameters: Any) -> Any:
        rows = self.rows(sql, **parameters)
        return rows[0][0] if rows else None


def quote_identifier(name: str) -> str:
    """A ClickHouse identifier in backquotes (names from the server's own catalog)."""
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def find_latest_data_day(reader: MartReader) -> date | None:
    """The latest business day any offline contract mart has rows for."""
    days = []
    for mart, day_expression in CONTRACT_MARTS.items():
        if reader.has(f"ads.{mart}"):
            # identifiers and expressions are constants of this module
            value = reader.scalar(f"SELECT max({day_expression}) FROM ads.{mart}")
            if isinstance(value, date) and value > date(1970, 1, 1):
                days.append(value)
    return max(days) if days else None


def business_today(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def connect(settings: Settings) -> Client:
    from classpulse.warehouse import get_client

    try:
        return get_client(settings)
    except Exception as exc:
        raise ReportError(
            f"cannot reach ClickHouse at {settings.clickhouse_url}: {exc}\n"
            "  what to do: start the warehouse (`classpulse warehouse start`) or check "
            "CLASSPULSE_CLICKHOUSE_* (`classpulse doctor`)"
        ) from None
