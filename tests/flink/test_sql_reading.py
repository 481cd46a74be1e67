"""Reading Flink SQL: the lexer splits and finds directives, Flink's own parser says what a
statement is. Adversarial text: keywords, semicolons and names in strings, comments, ``$$``
bodies and backquotes; any letter case; statements over many lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from classpulse.config import load_settings
from classpulse.flink.connectors import ConnectorConfigError, declared_role
from classpulse.flink.runner import load_catalog, unique_transactional_ids
from classpulse.flink.sqlfiles import (
    JOBS_DIR,
    TEMPLATES_DIR,
    SqlFileError,
    expand_templates,
    parse_job,
)
from classpulse.flink.sqlparser import read_statement
from classpulse.flink.sqltokens import (
    _KNOWN,
    comment_directives,
    header_comment,
    read_template_call,
    split_statements,
    strip_comments,
    tokens,
)

ROOT = load_settings().root

TRICKY = """-- insert into fake_in_a_comment select 1;
/* a block; with INSERT INTO other */
CREATE TEMPORARY VIEW `odd;view` AS
SELECT ';' AS semi, 'it''s -- no comment; really' AS quoted, `from` AS `select`
FROM source_table;
insert   into
    `target_table`
select *   -- from not_a_table;
from `odd;view`
where note <> '/* not; a comment */';
"""


def test_split_keeps_semicolons_in_strings_comments_and_backquotes() -> None:
    statements = split_statements(TRICKY)
    assert len(statements) == 2
    assert statements[0].startswith("-- insert into fake_in_a_comment select 1;\n/* a block;")
    assert statements[0].endswith("FROM source_table")
    assert statements[1].startswith("insert   into\n    `target_table`")
    assert statements[1].endswith("where note <> '/* not; a comment */'")
    # a part with only comments (or nothing) is no statement
    assert split_statements("-- a;\n;\n/* b; */ ;") == []
    assert split_statements("select 1") == ["select 1"]


def test_split_keeps_a_dollar_quoted_body_whole() -> None:
    text = "apply template t (a = $$ x; -- y\n 'z'' $$, b = 'q;''r');\nselect 2;"
    statements = split_statements(text)
    assert statements == ["apply template t (a = $$ x; -- y\n 'z'' $$, b = 'q;''r')", "select 2"]


def test_strip_comments_leaves_strings_and_names_alone() -> None:
    text = "select '--x', `a--b` -- gone\nfrom t /* gone; */ where s = 'it''s'"
    assert strip_comments(text) == "select '--x', `a--b` \nfrom t  where s = 'it''s'"
    assert strip_comments(text, strings=True) == "select '', `a--b` \nfrom t  where s = ''"


def test_header_and_role_comments() -> None:
    text = "-- First line.\n--   second line\n-- role: raw_source\n\n-- not header\nselect 1"
    assert header_comment(text) == "First line. second line"
    assert header_comment("--a\nselect 1 -- b") == "a"
    assert comment_directives(text, "role") == ["raw_source"]
    # a role written in a string is no directive
    text = "-- role: output\ncreate table x (a string comment '-- role: y')"
    assert declared_role(text, "f") == "output"
    with pytest.raises(ConnectorConfigError, match="expected one '-- role: <role>' line"):
        declared_role("-- role: a\n-- role: b\n", "f")
    with pytest.raises(ConnectorConfigError):
        declared_role("create table x (a string comment '-- role: y')", "f")


def test_a_template_call_is_read_from_tokens() -> None:
    call = read_template_call(
        "-- apply template in a comment does not count\n"
        "APPLY Template route (topic = 'it''s; ok', rule = $$a = 'b' -- c\n$$,)",
        "job",
    )
    assert call is not None
    assert call.name == "route"
    assert call.arguments == {"topic": "it's; ok", "rule": "a = 'b' -- c\n"}
    assert read_template_call("select 'apply template x ()'", "job") is None
    assert read_template_call("-- apply template x (a = 'b')\nselect 1", "job") is None
    for bad, message in [
        ("apply template route", "write apply template"),
        ("apply template route (a = b)", "expected <argument> = '<text>'"),
        ("apply template route (a = 'x', a = 'y')", "argument 'a' given twice"),
        ("apply template route (a = 'x' b = 'y')", "expected ','"),
    ]:
        with pytest.raises(SqlFileError, match=message):
            read_template_call(bad, "job")


def test_templates_fill_dollar_bodies_verbatim(tmp_path: Path) -> None:
    (tmp_path / TEMPLATES_DIR).mkdir(parents=True)
    (tmp_path / TEMPLATES_DIR / "t.sql").write_text(
        "insert into {sink} select '{topic}' from x where {rule:true};\n", encoding="utf-8"
    )
    statements = expand_templates(
        ["apply template t (sink = '`a;b`', topic = 'qos', rule = $$c = ';'$$)"],
        tmp_path,
        "job",
    )
    assert statements == ["insert into `a;b` select 'qos' from x where c = ';'"]
    # the text given goes in as it is: a quote left single breaks the statement, said where
    with pytest.raises(SqlFileError, match="job: t: the SQL lexer cannot read it"):
        expand_templates(["apply template t (sink = 'y', topic = 'it''s')"], tmp_path, "job")
    with pytest.raises(SqlFileError, match="needs argument 'topic'"):
        expand_templates(["apply template t (sink = 'y')"], tmp_path, "job")


def test_the_parser_reads_a_create_table() -> None:
    table = read_statement(
        "-- watermark for a as a in a comment\n"
        "CREATE TABLE `my table` (\n  a TIMESTAMP(3),\n  b STRING COMMENT 'WATERMARK FOR a'\n)"
    )
    assert (table.kind, table.name, table.has_watermark) == ("create table", "my table", False)
    table = read_statement(
        "create table if not exists t (\n    event_at timestamp(3),\n"
        "    watermark for event_at as event_at - interval '${DELAY}' second\n) "
        "with ('topic' = 'x')"
    )
    assert (table.kind, table.name, table.has_watermark) == ("create table", "t", True)


def test_the_parser_reads_a_view_and_where_its_query_is() -> None:
    statements = split_statements(TRICKY)
    view = read_statement(statements[0])
    assert (view.kind, view.name, view.temporary) == ("create view", "odd;view", True)
    assert view.reads == ("source_table",)
    assert view.query_span is not None
    query = statements[0][view.query_span[0] : view.query_span[1]]
    assert query == (
        "SELECT ';' AS semi, 'it''s -- no comment; really' AS quoted, `from` AS `select`\n"
        "FROM source_table"
    )
    assert view.aliased_literals == (("semi", ";"), ("quoted", "it's -- no comment; really"))
    # a query in parentheses: the span is the query, without them
    view = read_statement("create temporary view v as (\n  select a from t\n)")
    assert view.query_span is not None
    assert "create temporary view v as (\n  select a from t\n)"[slice(*view.query_span)] == (
        "select a from t"
    )
    assert read_statement("create view v as select 1").temporary is False


def test_the_parser_reads_an_insert() -> None:
    statements = split_statements(TRICKY)
    insert = read_statement(statements[1])
    assert (insert.kind, insert.name) == ("insert", "target_table")
    assert insert.reads == ("odd;view",)  # not the word after FROM in the comment
    assert insert.has_where and insert.where_is_null is None
    assert insert.target_end == statements[1].index("`target_table`") + len("`target_table`")

    plain = read_statement("INSERT INTO t SELECT a FROM s WHERE Reason IS NULL")
    assert (plain.has_where, plain.where_is_null) == (True, "Reason")
    assert read_statement("insert into t select a from s").has_where is False
    both = read_statement("insert into t select a from s where reason is null and a > 1")
    assert both.has_where and both.where_is_null is None
    union = read_statement("insert into t select a from s union all select a from u")
    assert union.has_where  # no plain SELECT: counted as filtering
    assert union.reads == ("s", "u")


def test_the_parser_finds_every_table_a_query_reads() -> None:
    statement = read_statement(
        "insert into out_table\n"
        "with recent as (select * from cte_source)\n"
        "select r.a, 'from fake_string' as note\n"
        "from recent as r\n"
        "join joined_table j on j.k = r.k\n"
        "left join dim_table for system_time as of r.proc_time as d on d.k = r.k,\n"
        "    lateral table(parse_message(r.payload, 'select from string_table')) as p,\n"
        "    unnest(r.items) as i (item)\n"
        "where r.k in (select k from subquery_table)\n"
        "    and exists (select 1 from table(tumble(table windowed_table,\n"
        "        descriptor(ts), interval '1' minute)))\n"
        "    and r.x < ${LIMIT} * 1000"
    )
    assert statement.name == "out_table"
    assert set(statement.reads) == {
        "cte_source",
        "recent",
        "joined_table",
        "dim_table",
        "subquery_table",
        "windowed_table",
    }
    assert statement.unnests
    assert statement.aliased_literals == (("note", "from fake_string"),)
    changelog = read_statement(
        "insert into t select * from to_changelog(input => table counts) where op <> 'X'"
    )
    assert changelog.reads == ("counts",) and not changelog.unnests


def test_unparsable_sql_fails_with_the_parsers_reason() -> None:
    with pytest.raises(SqlFileError, match="Flink's SQL parser rejects it"):
        read_statement("insert into t selec 1")
    with pytest.raises(SqlFileError, match="Flink's SQL parser rejects it"):
        read_statement("apply template x (a = 'b')")  # a directive, expanded before parsing


def test_the_transactional_id_hint_follows_the_target_name() -> None:
    statement = "-- into nowhere\nINSERT INTO `odd table` /* c */ SELECT 'INSERT INTO x' FROM s"
    assert unique_transactional_ids(statement, "p", "job", 3) == (
        "\nINSERT INTO `odd table`"
        " /*+ OPTIONS('sink.transactional-id-prefix' = 'p-odd table-job-3') */"
        "  SELECT 'INSERT INTO x' FROM s"
    )
    view = "create temporary view v as select 'insert into t' from s"
    assert unique_transactional_ids(view, "p", "job", 0) == view


def test_a_job_file_with_tricky_text_is_read_by_the_parser(tmp_path: Path) -> None:
    (tmp_path / JOBS_DIR).mkdir(parents=True)
    path = tmp_path / JOBS_DIR / "tricky.sql"
    path.write_text("-- Tricky job.\n-- Grain: none.\n\n" + TRICKY, encoding="utf-8")
    job = parse_job(path, ["source_table", "target_table", "fake_in_a_comment", "not_a_table"])
    assert job.description == "Tricky job. Grain: none."
    assert [name for name, _ in job.views] == ["odd;view"]
    assert job.outputs == {"target_table"}
    assert job.inputs == {"source_table"}
    with pytest.raises(SqlFileError, match="INSERT INTO unknown table"):
        parse_job(path, ["source_table"])


def test_every_job_reads_and_writes_what_its_roles_allow() -> None:
    """Independent of the parser: the connector files give each table a role, the file names
    say which source a cleaning job cleans and which mart a mart job fills."""
    catalog = load_catalog(ROOT, "kafka")
    role = {table.name: table.role for table in catalog.tables}
    cleaned = {"clean_topic", "event_stream", "label_input"}
    written = {name for job in catalog.jobs for name in job.outputs}
    for job in catalog.jobs:
        assert all(role[name] in cleaned | {"output"} for name in job.outputs), job.name
        assert job.inputs, job.name
        if job.name.startswith("clean_"):
            # a cleaning job reads its one raw source and writes its cleaned topic and counts
            source = job.name.removeprefix("clean_")
            assert job.inputs == {source} and role[source] == "raw_source", job.name
            assert {"rejected_messages", "topic_accounting"} <= job.outputs, job.name
            assert any(role[name] in cleaned for name in job.outputs), job.name
        else:
            mart = job.name.removeprefix("mart_")
            assert mart in job.outputs, job.name
            raw = {name for name in job.inputs if role[name] == "raw_source"}
            assert not raw, f"{job.name} reads raw sources {raw}"
            # an output table it reads is one another job writes (triage reads the labels)
            read_outputs = {name for name in job.inputs if role[name] == "output"}
            assert read_outputs <= written - job.outputs, job.name


def test_positions_hold_with_tabs_line_ends_and_wide_characters() -> None:
    insert = "insert\tinto\t\t`t` select 1"
    assert insert[: read_statement(insert).target_end] == "insert\tinto\t\t`t`"
    view = "create temporary view v as\r\n\tselect '中文' as a\r\n\tfrom `表`"
    span = read_statement(view).query_span
    assert span is not None
    assert view[span[0] : span[1]] == "select '中文' as a\r\n\tfrom `表`"
    assert read_statement(view).reads == ("表",)


def test_a_statement_split_from_a_file_has_the_tokens_of_its_own_text() -> None:
    """Statements reuse their file's tokens; lexed on their own they give the same."""
    texts = [TRICKY, "select 1 -- trailing   \n;  \n\t select 2 /* x */  "]
    texts += [path.read_text("utf-8") for path in sorted((ROOT / "flink_sql").rglob("*.sql"))]
    for text in texts:
        for statement in split_statements(text):
            reused = tokens(statement)
            _KNOWN.clear()
            assert tokens(statement) == reused, statement[:60]
            assert "".join(token.text for token in reused) == statement
