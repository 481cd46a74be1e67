"""The keyword case of the parts sqlfluff cannot parse: found on sqlfluff's lexer, fixed in place."""

from __future__ import annotations

from pathlib import Path

import pytest

from classpulse.sql_keyword_case import MisreadLiteral, find_miscased_keywords, fix_file, main

CONFIG = """\
[sqlfluff]
dialect = flink
templater = placeholder

[sqlfluff:templater:placeholder]
param_style = flyway_var

[sqlfluff:rules:capitalisation.keywords]
capitalisation_policy = lower
"""

# LATERAL TABLE(...) and METADATA FROM are beyond sqlfluff's flink grammar: unparsable parts.
JOB = """\
create table qos_log (
    payload string,
    kafka_partition INT NOT NULL METADATA FROM 'partition' VIRTUAL
) with ('connector' = 'kafka', 'topic' = '${TOPIC}');

select message.payload, parsed.reason
from qos_log as message,
    LATERAL TABLE(parse_message(message.payload, 'reason STRING')) AS parsed;
"""


def write_job(folder: Path, text: str = JOB) -> Path:
    (folder / ".sqlfluff").write_text(CONFIG)
    path = folder / "job.sql"
    path.write_text(text)
    return path


def test_keywords_of_unparsable_parts_are_found_and_fixed(tmp_path: Path) -> None:
    path = write_job(tmp_path)
    written = {finding.written for finding in find_miscased_keywords(path)}
    assert {"INT", "NOT", "NULL", "METADATA", "FROM", "VIRTUAL", "LATERAL", "TABLE"} <= written
    # string literals, placeholders and lower-case names are never keywords to recase
    assert not written & {"STRING", "reason", "TOPIC", "parse_message", "payload"}

    assert main(["check", str(tmp_path)]) == 1
    assert main(["fix", str(tmp_path)]) == 0
    fixed = path.read_text()
    assert "kafka_partition int not null metadata from 'partition' virtual" in fixed
    assert "lateral table(parse_message(message.payload, 'reason STRING'))" in fixed
    assert "'${TOPIC}'" in fixed
    assert find_miscased_keywords(path) == []
    assert main(["check", str(path)]) == 0


def test_mixed_case_words_are_names_not_keywords(tmp_path: Path) -> None:
    # A ClickHouse-style camelCase name is case-sensitive: never recased, even if it is a keyword.
    path = write_job(tmp_path, "select 1 from t as source, LATERAL Table(f(source.x)) AS fn;\n")
    findings = find_miscased_keywords(path)
    # (LATERAL, read as a table name just before the unparsable part, is a keyword)
    assert [finding.written for finding in findings] == ["LATERAL", "AS"]
    fix_file(path, findings)
    assert path.read_text().endswith("lateral Table(f(source.x)) as fn;\n")


def test_a_backslash_before_a_closing_quote_is_refused(tmp_path: Path) -> None:
    # Flink reads '\' as one backslash; sqlfluff's lexer as an open literal that swallows the
    # rest, so the quoted 'INSERT' below would look like a keyword to recase.
    text = (
        "select 1 from t as source, LATERAL TABLE(f(source.x)) AS fn\n"
        "where source.name not like 'DM\\_%' escape '\\' and source.op in ('INSERT');\n"
    )
    path = write_job(tmp_path, text)
    with pytest.raises(MisreadLiteral, match=r"job.sql:2:"):
        find_miscased_keywords(path)
    assert main(["fix", str(path)]) == 2
    assert path.read_text() == text


def test_a_keyword_read_as_a_name_before_an_unparsable_part_is_recased(tmp_path: Path) -> None:
    # In a view over a multi-line spec the dialect reads LATERAL as a table name, then gives up.
    text = (
        "create temporary view checked as\n"
        "select message.payload, parsed.reason\n"
        "from qos_log as message,\n"
        "    LATERAL TABLE(parse_message(message.payload, '\n"
        "        reason  STRING  reason  NOT NULL\n"
        "    ')) as parsed;\n"
    )
    path = write_job(tmp_path, text)
    assert main(["fix", str(path)]) == 0
    assert "    lateral table(parse_message(message.payload, '\n" in path.read_text()
    assert "reason  STRING  reason  NOT NULL" in path.read_text()
    assert main(["check", str(path)]) == 0
