"""The warehouse server's lexical routing: leading keyword, FORMAT clause, INSERT data split."""

from __future__ import annotations

import pytest

from classpulse.warehouse.sqltext import (
    format_clause,
    is_read_statement,
    leading_keyword,
    quote_string,
    split_insert,
)

FORMATS = frozenset(
    {
        "json",
        "jsoneachrow",
        "csv",
        "tsv",
        "tabseparated",
        "native",
        "parquet",
        "values",
        "rowbinary",
    }
)


@pytest.mark.parametrize(
    ("sql", "keyword"),
    [
        ("SELECT 1", "SELECT"),
        ("  \n\tselect 1", "SELECT"),
        ("-- a comment\nINSERT INTO t VALUES (1)", "INSERT"),
        ("# hash comment\nshow tables", "SHOW"),
        ("/* block /* nested */ still comment */ WITH x AS (SELECT 1) SELECT * FROM x", "WITH"),
        ("((SELECT 1) UNION ALL (SELECT 2))", "SELECT"),
        ("", ""),
        ("   -- only a comment", ""),
        ("'string first'", ""),
        ("set max_threads = 1", "SET"),
    ],
)
def test_leading_keyword(sql, keyword):
    assert leading_keyword(sql) == keyword


@pytest.mark.parametrize(
    ("sql", "read"),
    [
        ("SELECT 1", True),
        ("WITH 1 AS x SELECT x", True),
        ("SHOW DATABASES", True),
        ("DESCRIBE TABLE t", True),
        ("EXISTS TABLE t", True),
        ("EXPLAIN SELECT 1", True),
        ("INSERT INTO t VALUES (1)", False),
        ("CREATE TABLE t (x UInt8) ENGINE = Memory", False),
        ("DROP TABLE t", False),
        ("ALTER TABLE t DELETE WHERE 1", False),
        ("SET readonly = 0", False),
    ],
)
def test_is_read_statement(sql, read):
    assert is_read_statement(sql) is read


@pytest.mark.parametrize(
    ("sql", "name"),
    [
        ("SELECT 1 FORMAT JSON", "JSON"),
        ("SELECT 1 format jsoneachrow", "jsoneachrow"),
        ("SELECT 1 FORMAT JSONEachRow SETTINGS max_threads = 1", "JSONEachRow"),
        ("SELECT 1\nFORMAT\n  CSV\n", "CSV"),
        ("SELECT 1 FORMAT JSON -- trailing comment", "JSON"),
        ("SELECT 1", None),
        # not clauses: inside strings, identifiers, comments, functions, subqueries
        ("SELECT 'FORMAT JSON'", None),
        ('SELECT "FORMAT CSV" FROM t', None),
        ("SELECT `FORMAT` FROM t", None),
        ("SELECT 1 -- FORMAT JSON", None),
        ("SELECT 1 /* FORMAT JSON */", None),
        ("SELECT format('{} {}', 'FORMAT', 'JSON')", None),
        ("SELECT * FROM (SELECT 1 FORMAT JSON)", None),
        ("SELECT * FROM (SELECT 1 FORMAT JSON) FORMAT CSV", "CSV"),
        # a column named format is not a clause either
        ("SELECT format FROM t", None),
        ("SELECT 1 AS format", None),
        ("SELECT 'it''s' FORMAT TSV", "TSV"),
        ("SELECT 'back\\'slash' FORMAT TSV", "TSV"),
    ],
)
def test_format_clause(sql, name):
    assert format_clause(sql, FORMATS) == name


def test_format_clause_needs_a_known_format():
    assert format_clause("SELECT 1 FORMAT NoSuchFormat", FORMATS) is None


@pytest.mark.parametrize(
    ("sql", "statement", "fmt", "data"),
    [
        ("INSERT INTO t FORMAT CSV\n1,2\n", "INSERT INTO t", "CSV", "1,2\n"),
        ("INSERT INTO t FORMAT CSV\r\n1,2\n", "INSERT INTO t", "CSV", "1,2\n"),
        ("INSERT INTO t FORMAT CSV \t \n1,2\n", "INSERT INTO t", "CSV", "1,2\n"),
        # only one line break is eaten: an empty first line stays data
        ("INSERT INTO t FORMAT TSV\n\n1\n", "INSERT INTO t", "TSV", "\n1\n"),
        ("INSERT INTO t FORMAT TSV\r\n\r\n1\n", "INSERT INTO t", "TSV", "\r\n1\n"),
        # a CR alone is eaten too, then data starts
        ("INSERT INTO t FORMAT TSV\r1\n", "INSERT INTO t", "TSV", "1\n"),
        # data on the same line, after spaces
        ('INSERT INTO t FORMAT JSONEachRow {"a": 1}', "INSERT INTO t", "JSONEachRow", '{"a": 1}'),
        ("INSERT INTO t FORMAT CSV", "INSERT INTO t", "CSV", ""),
        (
            "INSERT INTO db.t (a, b) SETTINGS async_insert = 0 FORMAT TSV\n1\t2\n",
            "INSERT INTO db.t (a, b) SETTINGS async_insert = 0",
            "TSV",
            "1\t2\n",
        ),
        ("-- load\ninsert into t format Native\nxyz", "-- load\ninsert into t", "Native", "xyz"),
        (
            "INSERT INTO t VALUES (1, 'a'), (2, 'b')",
            "INSERT INTO t",
            "Values",
            " (1, 'a'), (2, 'b')",
        ),
        ("insert into t (x) values(1)", "insert into t (x)", "Values", "(1)"),
        ("INSERT INTO `FORMAT` VALUES (1)", "INSERT INTO `FORMAT`", "Values", " (1)"),
        ("INSERT INTO t (`values`) VALUES (1)", "INSERT INTO t (`values`)", "Values", " (1)"),
    ],
)
def test_split_insert(sql, statement, fmt, data):
    split = split_insert(sql, FORMATS)
    assert split is not None
    assert (split.statement, split.format_name) == (statement, fmt)
    assert sql[split.data_offset :] == data


def test_split_insert_format_values():
    sql = "INSERT INTO t FORMAT Values (1, 'a')"
    split = split_insert(sql, FORMATS)
    assert (split.statement, split.format_name) == ("INSERT INTO t", "Values")
    assert sql[split.data_offset :] == "(1, 'a')"


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO t SELECT * FROM s",
        "INSERT INTO t WITH 1 AS x SELECT x",
        "INSERT INTO t (a) (SELECT 1)",
        "INSERT INTO t SELECT 'VALUES (1)'",
        "SELECT * FROM t FORMAT CSV",
        "SELECT 'INSERT INTO t VALUES (1)'",
        "CREATE TABLE t (x UInt8) ENGINE = Memory",
        "",
    ],
)
def test_split_insert_without_attached_data(sql):
    assert split_insert(sql, FORMATS) is None


def test_split_insert_unknown_format_is_not_a_split():
    assert split_insert("INSERT INTO t FORMAT NoSuchFormat\n1\n", FORMATS) is None


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("plain", "'plain'"),
        ("it's", "'it\\'s'"),
        ("back\\slash", "'back\\\\slash'"),
        ("", "''"),
        ("课堂", "'课堂'"),
    ],
)
def test_quote_string(value, literal):
    assert quote_string(value) == literal


def test_split_insert_select_from_input_is_marked():
    sql = "INSERT INTO t SELECT * FROM input('a UInt8') FORMAT CSV\n1\n"
    split = split_insert(sql, FORMATS)
    assert split.selects and split.format_name == "CSV"
    assert split.statement == "INSERT INTO t SELECT * FROM input('a UInt8')"
