"""A suite's sql_checks: queries of offending rows, parsed and checked without a warehouse."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


SQL_CHECK_KEYS = ("name", "description", "sql")
SQL_CHECK_OPTIONAL_KEYS = ("severity",)
SEVERITIES = ("critical", "warning")  # a failed `warning` is reported, never gates
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
JOIN_KEYWORD = re.compile(r"\bJOIN\b", re.IGNORECASE)
BATCH_ALIAS = re.compile(r"\{batch\}\s+AS\s+\w", re.IGNORECASE)


@dataclass(frozen=True)
class SqlCheck:
    """A query returning the offending rows; run as GX's UnexpectedRowsExpectation."""

    name: str
    description: str
    sql: str
    severity: str = "critical"


def parse_sql_checks(value: object, problems: list[str]) -> list[SqlCheck]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append("`sql_checks` must be a list of {name, description, sql}")
        return []
    checks: list[SqlCheck] = []
    names: set[str] = set()
    for index, item in enumerate(value):
        where = f"sql_checks[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected a mapping with name, description, sql")
            continue
        name = item.get("name")
        if isinstance(name, str):
            where = f"sql_checks[{index}] {name}"
        unknown = [str(key) for key in item if key not in SQL_CHECK_KEYS + SQL_CHECK_OPTIONAL_KEYS]
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(unknown)}")
        missing = [key for key in SQL_CHECK_KEYS if not isinstance(item.get(key), str)]
        missing += [key for key in SQL_CHECK_KEYS if key not in missing and not item[key].strip()]
        if missing:
            problems.append(f"{where}: {', '.join(missing)} must be non-empty text")
            continue
        if not IDENTIFIER.match(name):
            problems.append(f"{where}: name must be a snake_case identifier")
        if name in names:
            problems.append(f"{where}: duplicate name")
        names.add(name)
        sql_problem = _check_sql(item["sql"])
        if sql_problem:
            problems.append(f"{where}: {sql_problem}")
            continue
        severity = item.get("severity", "critical")
        if severity not in SEVERITIES:
            problems.append(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
            continue
        checks.append(
            SqlCheck(
                name=name,
                description=item["description"].strip(),
                sql=item["sql"],
                severity=severity,
            )
        )
    return checks


def _check_sql(sql: str) -> str | None:
    try:
        fields = {parsed[1] for parsed in string.Formatter().parse(sql) if parsed[1] is not None}
    except ValueError as exc:
        return f"unpaired brace in sql ({exc}); write literal braces as {{{{ and }}}}"
    others = sorted(fields - {"batch"})
    if others:
        return (
            f"unknown placeholder(s) {', '.join('{' + name + '}' for name in others)}: only "
            "{batch} is substituted; write literal braces as {{ and }}"
        )
    if "batch" not in fields:
        return "sql must read the suite's table as {batch}"
    if not JOIN_KEYWORD.search(sql) and BATCH_ALIAS.search(sql):
        return (
            "do not alias {batch} in a query without JOIN: GX names it `subselect` itself "
            "(with a JOIN, alias it yourself)"
        )
    return None
