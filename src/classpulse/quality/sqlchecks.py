"""A suite's sql_checks: queries of offending rows, parsed and checked without a warehouse.

Each query is read by ClickHouse's own parser (:func:`classpulse.warehouse.scratch.parse`), with
a stand-in table name for ``{batch}``. Its syntax tree says whether the query joins (a JOIN
clause or ARRAY JOIN; tables listed with commas do not count, as GX counts the word JOIN): GX
puts the batch in a joining query bare, in any other as a derived table it aliases
``subselect`` itself, so such a query must not alias ``{batch}``.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from classpulse.warehouse.scratch import Parsed, parse, syntax_nodes

SQL_CHECK_KEYS = ("name", "description", "sql")
SQL_CHECK_OPTIONAL_KEYS = ("severity",)
SEVERITIES = ("critical", "warning")  # a failed `warning` is reported, never gates
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # a name (of a check, table, layer)
BATCH_STAND_IN = "classpulse_batch_stand_in"
"""The table name ``{batch}`` becomes while the engine's parser reads a query."""


@dataclass(frozen=True)
class SqlCheck:
    """A query returning the offending rows; run as GX's UnexpectedRowsExpectation."""

    name: str
    description: str
    sql: str
    severity: str = "critical"
    joins: bool = False  # the query has a JOIN or ARRAY JOIN (GX then leaves {batch} unaliased)


def parse_sql_checks(value: object, problems: list[str]) -> list[SqlCheck]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append("`sql_checks` must be a list of {name, description, sql}")
        return []
    candidates: list[tuple[str, dict]] = []
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
        placeholder_problem = _check_placeholders(item["sql"])
        if placeholder_problem:
            problems.append(f"{where}: {placeholder_problem}")
            continue
        candidates.append((where, item))
    # one question to the engine's parser for all of the suite's queries
    parsed = parse([_with_stand_in(item["sql"]) for _, item in candidates], trees=True)
    checks: list[SqlCheck] = []
    for (where, item), tree in zip(candidates, parsed, strict=True):
        sql_problem = _check_tree(tree)
        if sql_problem:
            problems.append(f"{where}: {sql_problem}")
            continue
        severity = item.get("severity", "critical")
        if severity not in SEVERITIES:
            problems.append(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
            continue
        checks.append(
            SqlCheck(
                name=item["name"],
                description=item["description"].strip(),
                sql=item["sql"],
                severity=severity,
                joins=_joins(tree),
            )
        )
    return checks


def _check_placeholders(sql: str) -> str | None:
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
    return None


def _with_stand_in(sql: str) -> str:
    """The query as GX would send it, with a plain table name for the batch."""
    return sql.rstrip("; \t\r\n").format(batch=BATCH_STAND_IN)


def _joins(tree: Parsed) -> bool:
    """A JOIN clause (not a comma between tables) or an ARRAY JOIN: where GX sees ``JOIN``."""
    return any(
        node.get("type") == "ArrayJoin"
        or node.get("type") == "TableJoin"
        and node.get("kind") != "COMMA"
        for node in syntax_nodes(tree.tree)
    )


def _check_tree(tree: Parsed) -> str | None:
    if tree.error or tree.tree is None:
        reason = tree.error.splitlines()[0] if tree.error else "the engine gives no syntax tree"
        return f"sql is not one ClickHouse query ({reason}); fix it so the engine can parse it"
    batches = [
        node
        for node in syntax_nodes(tree.tree)
        if node.get("type") == "TableIdentifier" and node.get("name") == BATCH_STAND_IN
    ]
    if not batches:
        return "sql must read {batch} as a table (FROM {batch}, JOIN {batch})"
    if any(node.get("alias") for node in batches) and not _joins(tree):
        return (
            "do not alias {batch} in a query without JOIN: GX names it `subselect` itself "
            "(with a JOIN, alias it yourself)"
        )
    return None
