"""A suite's sql_checks are read by ClickHouse's parser: whether a query joins and whether it
aliases {batch} come from its syntax tree, never from words inside strings or comments."""

from __future__ import annotations

import pytest

from classpulse.quality.sqlchecks import parse_sql_checks

ALIAS = "do not alias {batch}"
NOT_SQL = "is not one ClickHouse query"
NOT_TABLE = "must read {batch} as a table"

# sql -> (joins, a problem it has or None)
CASES = [
    ("SELECT * FROM {batch} AS t", (False, ALIAS)),
    ("select * from {batch} t where x > 0", (False, ALIAS)),
    ("SELECT * FROM {batch} As B -- a join comes later", (False, ALIAS)),
    ("SELECT 'JOIN' AS word, * FROM {batch} AS b", (False, ALIAS)),
    ("SELECT *\r\nFROM {batch} AS b\r\nWHERE s = 'a;b'\r\n", (False, ALIAS)),
    ("SELECT '{{batch}} AS x' AS text FROM {batch} WHERE 0", (False, None)),
    ("SELECT * FROM {batch} WHERE note = 'x JOIN y' /* join */", (False, None)),
    ("select * from {batch} as b left join dim.t as d using (id) where d.id = 0", (True, None)),
    ("SELECT * FROM {batch} AS b ARRAY JOIN b.items AS item WHERE item < 0", (True, None)),
    ("SELECT * FROM dim.t AS d GLOBAL ANY INNER JOIN {batch} AS b ON b.id = d.id", (True, None)),
    (
        "SELECT m.n FROM (SELECT count() AS n FROM {batch}) AS m, (SELECT 1 AS n) AS d"
        " WHERE m.n != d.n",
        (False, None),
    ),
    ("SELECT arrayJoin([1, 2]) AS x FROM {batch} WHERE x > 3;\n", (False, None)),
    ("SELECT * FROM {batch} WHERE (", (False, NOT_SQL)),
    ("SELEC * FROM {batch}", (False, NOT_TABLE)),  # the engine reads: SELECT SELEC * FROM AS x
    ("SELECT '{batch}' AS name FROM system.one", (False, NOT_TABLE)),
    ("SELECT 1 FROM {batch}; SELECT 2", (False, NOT_SQL)),
]


@pytest.mark.parametrize(("sql", "expected"), CASES)
def test_joins_and_batch_aliases_come_from_the_syntax_tree(
    sql: str, expected: tuple[bool, str | None]
) -> None:
    joins, problem = expected
    problems: list[str] = []
    checks = parse_sql_checks([{"name": "probe", "description": "d", "sql": sql}], problems)
    if problem is None:
        assert problems == []
        assert [check.joins for check in checks] == [joins]
    else:
        assert checks == []
        assert len(problems) == 1 and problem in problems[0], problems


def test_all_of_a_suites_checks_are_read_and_reported_in_one_pass() -> None:
    problems: list[str] = []
    checks = parse_sql_checks(
        [
            {"name": "good", "description": "d", "sql": "SELECT * FROM {batch} WHERE 0"},
            {"name": "aliased", "description": "d", "sql": "SELECT * FROM {batch} b"},
            {"name": "loud", "description": "d", "sql": "SELECT 1 FROM {batch}", "severity": "x"},
        ],
        problems,
    )
    assert [check.name for check in checks] == ["good"]
    assert [problem.split(":")[0] for problem in problems] == [
        "sql_checks[1] aliased",
        "sql_checks[2] loud",
    ]
