"""An engine SQL file is cut into statements by ClickHouse's own lexer: a ``;`` inside a string,
a quoted name or a comment never ends a statement."""

from __future__ import annotations

from pathlib import Path

import pytest

from classpulse.preheat import read_statements
from classpulse.warehouse.scratch import split_statements

# what a file holds -> its statements, as written out by hand
CASES: dict[str, list[str]] = {
    "select 'a;b', \"c;d\", `e;f`;\nselect 2;\n": ["select 'a;b', \"c;d\", `e;f`", "select 2"],
    "select 'it''s;', 'back\\'slash;';\nselect 3\n": [
        "select 'it''s;', 'back\\'slash;'",
        "select 3",
    ],
    "-- a header;\n-- and another;\nselect 1;\n": ["-- a header;\n-- and another;\nselect 1"],
    "select 1 /* a; /* nested; */ b; */ + 1;\nselect 2;": [
        "select 1 /* a; /* nested; */ b; */ + 1",
        "select 2",
    ],
    "select 1; -- ends here; really\nselect 2; -- the end; word\n": [
        "select 1",
        "-- ends here; really\nselect 2",
    ],
    # a file is read as text: its CRLF line ends become LF
    "SELECT 1;\r\nselect {n:UInt64};\r\n\r\nSeLeCt 'x;\r\ny'\r\n": [
        "SELECT 1",
        "select {n:UInt64}",
        "SeLeCt 'x;\ny'",
    ],
    "select $$here; doc$$;\n;\n ; -- no statement\nselect 'é;ü';": [
        "select $$here; doc$$",
        "-- no statement\nselect 'é;ü'",
    ],
    "-- only a comment; nothing to run\n/* ; */\n": [],
}


@pytest.mark.parametrize(("text", "expected"), list(CASES.items()))
def test_statements_end_only_at_the_lexers_semicolons(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    folder = tmp_path / "clickhouse" / "preheat"
    folder.mkdir(parents=True)
    (folder / "probe.sql").write_bytes(text.encode("utf-8"))
    assert read_statements(tmp_path, "probe") == expected


def test_carriage_returns_stay_in_the_statements_they_belong_to() -> None:
    text = "select 1; -- one;\r\nselect 'a;\r\nb';\r\n"
    assert split_statements(text) == ["select 1", "-- one;\r\nselect 'a;\r\nb'"]
