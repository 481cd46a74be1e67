"""An engine SQL file is cut into statements by ClickHouse's own lexer: a ``;`` inside a string,
a quoted name or a comment never ends a statement."""

from __future__ import annotations

from pathlib import Path

import pytest

from classpulse.preheat import read_statements
from classpulse.warehouse.scratch import split_statements

CASES = [
    pytest.param(
        "insert into t select 'a;b', \"c;d\", `e;f`;\nselect 2;\n",
        ["insert into t select 'a;b', \"c;d\", `e;f`", "select 2"],
        id="semicolons-in-strings-and-names",
    ),
    pytest.param(
        "select 'it''s; still', 'back\\'slash; too';\nselect 3\n",
        ["select 'it''s; still', 'back\\'slash; too'", "select 3"],
        id="escaped-quotes",
    ),
    pytest.param(
        "-- a header; with a semicolon\n-- and another;\nselect 1;\n",
        ["-- a header; with a semicolon\n-- and another;\nselect 1"],
        id="semicolons-in-header-comments",
    ),
    pytest.param(
        "select 1 /* one; /* nested; */ still; */ + 1;\nselect 2;",
        ["select 1 /* one; /* nested; */ still; */ + 1", "select 2"],
        id="semicolons-in-nested-block-comments",
    ),
    pytest.param(
        "select 1; -- ends here; really\nselect 2; -- the last; word\n",
        ["select 1", "-- ends here; really\nselect 2"],
        id="comments-after-statement-ends",
    ),
    pytest.param(
        "SELECT 1;\r\nselect {n:UInt64};\r\n\r\nSeLeCt 'x;\r\ny'\r\n",
        ["SELECT 1", "select {n:UInt64}", "SeLeCt 'x;\ny'"],  # a file is read as text
        id="crlf-line-ends-and-any-case",
    ),
    pytest.param(
        "select $$heredoc; text$$;\n;\n  ;  -- nothing between\nselect 'é;ü';",
        ["select $$heredoc; text$$", "-- nothing between\nselect 'é;ü'"],
        id="heredoc-empty-statements-and-non-ascii",
    ),
    pytest.param("-- only a comment; nothing to run\n/* ; */\n", [], id="comments-only"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
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
