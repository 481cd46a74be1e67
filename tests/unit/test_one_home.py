"""Each business rule and threshold has one home; a copy anywhere else fails this test.

Homes: the look-back and the bad-audio/video thresholds are dbt_project.yml ``vars``
(Python reads them through classpulse.business_rules, Flink jobs through their variables),
reg_hour -> date is the dbt macro ``reg_hour_date``, a YYYY-MM-DD option is
``classpulse.commands.options.parse_day``. Python is read with ``ast``; SQL (files, and
SQL inside Python strings or Jinja strings) with sqlparse's lexer, so comments and prose
never count and layout does not matter.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlparse
from sqlparse import tokens as T

from classpulse import business_rules

ROOT = Path(__file__).resolve().parents[2]
PYTHON_DIRS = ("src/classpulse", "dags")
SQL_DIRS = ("dbt_project/models", "dbt_project/macros", "flink_sql", "clickhouse")
RULES_HOME = "src/classpulse/business_rules.py"
PARSE_DAY_HOME = "src/classpulse/commands/options.py"
REG_HOUR_HOME = "dbt_project/macros/registrations.sql"
# Pending: the report's headline counts rt and ads rows per business day of each contract mart,
# and registrations_hourly_by_level carries only its reg_hour key; until the mart has a day
# column of its own, the report decodes reg_hour once, in report/model.py.
PENDING = {
    "src/classpulse/report/model.py": {"reg_hour decoding"},
}
QUALITY_NAMES = {"lost", "fr", "audio_lost", "video_fr"}


def lookback_spellings() -> tuple[set[int], set[str]]:
    milliseconds = business_rules.recorded_course_lookback_ms()
    return {milliseconds, milliseconds // 1000}, {
        business_rules.recorded_course_lookback_interval()
    }


# --------------------------------------------------------------------------------------
# SQL


def sql_tokens(text: str) -> list[tuple[object, str]]:
    """Significant tokens; a quoted string or identifier that holds SQL (Jinja) is lexed too."""
    found: list[tuple[object, str]] = []
    for token in sqlparse.parse(text)[0].flatten() if text.strip() else ():
        if token.is_whitespace or token.ttype in T.Comment:
            continue
        found.append((token.ttype, token.value))
        if (token.ttype in T.String or token.ttype in T.Name) and len(token.value) > 2:
            inner = token.value[1:-1] if token.value[0] in "'\"`[" else ""  # [..]: a Jinja list
            if any(mark in inner for mark in "(=<>"):
                found.extend(sql_tokens(inner))
    return found


def sql_copies(text: str) -> Iterator[tuple[str, str]]:
    """(rule, evidence) for every copy of a rule in SQL text."""
    numbers, intervals = lookback_spellings()
    tokens = sql_tokens(text)
    values = [value for _, value in tokens]
    for index, (kind, value) in enumerate(tokens):
        following = values[index + 1 : index + 5]
        if kind in T.Number and value.isdigit() and int(value) in numbers:
            yield "look-back", value
        if kind in T.String and value.strip("'\"") in intervals:
            yield "look-back", value
        if value.lower() == "var" and following[:1] == ["("] and len(following) >= 3:
            name = following[1].strip("'\"")
            if name in business_rules.RULE_VARS and following[2] == ",":
                yield "dbt var default", f"var({following[1]}, …)"
        if value.lower() == "intdiv" and following[:2] == ["(", "reg_hour"]:
            yield "reg_hour decoding", "intDiv(reg_hour, …)"
        if value.lower() in QUALITY_NAMES and index + 2 < len(tokens):
            operator, (number_kind, number) = tokens[index + 1], tokens[index + 2]
            if operator[0] in T.Comparison and number_kind in T.Number and number != "0":
                yield "bad-quality threshold", f"{value} {operator[1]} {number}"


# --------------------------------------------------------------------------------------
# Python


def name_of(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def names_lookback(node: ast.AST) -> bool:
    """Whether an identifier, argument, keyword or option name inside ``node`` is a look-back."""
    for inner in ast.walk(node):
        words = [name_of(inner)]
        if isinstance(inner, ast.arg | ast.keyword):
            words.append(inner.arg or "")
        if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
            words.append(inner.value)
        if any("lookback" in word.lower().replace("-", "").replace("_", "") for word in words):
            return True
    return False


def python_copies(source: str) -> Iterator[tuple[str, str]]:
    """(rule, evidence) for every copy of a rule in Python source."""
    numbers, intervals = lookback_spellings()
    milliseconds = max(numbers)
    tree = ast.parse(source)
    for node in ast.walk(tree):
        # the look-back in seconds is a common number (3 h): a copy only next to a look-back name
        scoped = isinstance(node, ast.Call | ast.Assign | ast.AnnAssign | ast.arguments)
        if scoped and names_lookback(node):
            seconds = numbers - {milliseconds}
            for inner in ast.walk(node):
                value = inner.value if isinstance(inner, ast.Constant) else None
                if type(value) is int and value in seconds:
                    yield "look-back", repr(value)
        if isinstance(node, ast.Constant) and not isinstance(node.value, bool):
            if type(node.value) is int and node.value == milliseconds:
                yield "look-back", repr(node.value)
            if isinstance(node.value, str) and node.value in intervals:
                yield "look-back", repr(node.value)
            if isinstance(node.value, str) and "reg_hour" in node.value:
                for rule, evidence in sql_copies(node.value):
                    if rule == "reg_hour decoding":
                        yield rule, evidence
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            named = any(name_of(operand) in QUALITY_NAMES for operand in operands)
            numbers_compared = [
                operand.value
                for operand in operands
                if isinstance(operand, ast.Constant) and type(operand.value) is int
            ]
            if named and any(number != 0 for number in numbers_compared):
                yield "bad-quality threshold", ast.unparse(node)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if name_of(target).startswith(("BAD_AUDIO", "BAD_VIDEO")):
                    yield "bad-quality threshold", ast.unparse(node)
        if isinstance(node, ast.FunctionDef) and node.name in ("parse_day", "parse_start"):
            yield "parse_day", f"def {node.name}"
        if isinstance(node, ast.Call) and name_of(node.func) == "strptime":
            formats = [arg.value for arg in node.args if isinstance(arg, ast.Constant)]
            if "%Y-%m-%d" in formats:
                yield "parse_day", ast.unparse(node)


# --------------------------------------------------------------------------------------


def files(directories: tuple[str, ...], suffix: str) -> Iterator[Path]:
    for directory in directories:
        yield from sorted((ROOT / directory).rglob(f"*{suffix}"))


def allowed(relative: str, rule: str) -> bool:
    homes = {
        "look-back": RULES_HOME,
        "bad-quality threshold": RULES_HOME,
        "parse_day": PARSE_DAY_HOME,
        "reg_hour decoding": REG_HOUR_HOME,
    }
    return homes.get(rule) == relative or rule in PENDING.get(relative, set())


def test_no_copy_of_a_rule_outside_its_home() -> None:
    copies = []
    for path in files(PYTHON_DIRS, ".py"):
        relative = path.relative_to(ROOT).as_posix()
        for rule, evidence in python_copies(path.read_text(encoding="utf-8")):
            if not allowed(relative, rule):
                copies.append(f"{relative}: {rule}: {evidence}")
    for path in files(SQL_DIRS, ".sql"):
        relative = path.relative_to(ROOT).as_posix()
        for rule, evidence in sql_copies(path.read_text(encoding="utf-8")):
            if not allowed(relative, rule):
                copies.append(f"{relative}: {rule}: {evidence}")
    assert copies == [], "copies of a rule outside its home:\n" + "\n".join(copies)


def test_rule_vars_are_declared_once_in_dbt_project() -> None:
    declared = business_rules.dbt_vars()
    for name in business_rules.RULE_VARS:
        assert isinstance(declared.get(name), int), name
    assert business_rules.recorded_course_lookback_interval() == "0 03:00:00"


@pytest.mark.parametrize(
    ("source", "rule"),
    [
        ("LOOKBACK_SECONDS = 10_800", "look-back"),
        ("LOOKBACK_MS = 10_800_000", "look-back"),
        ('option("--lookback-seconds", default=10_800)', "look-back"),
        ("interval = '0 03:00:00'", "look-back"),
        ("bad = lost >= 10", "bad-quality threshold"),
        ("BAD_AUDIO_LOST = 20", "bad-quality threshold"),
        ("def parse_start(context, parameter, value): ...", "parse_day"),
        ("day = datetime.strptime(text, '%Y-%m-%d')", "parse_day"),
        ('QUERY = "SELECT makeDate(intDiv(reg_hour, 1000000), 1, 1)"', "reg_hour decoding"),
    ],
)
def test_python_copies_are_found(source: str, rule: str) -> None:
    assert rule in {found for found, _ in python_copies(source)}


@pytest.mark.parametrize(
    ("sql", "rule"),
    [
        ("select countIf(audio_lost >= {{ var('bad_audio_lost', 20) }})", "dbt var default"),
        ("select countIf(video_fr < 10) from t", "bad-quality threshold"),
        ("RANGE BETWEEN INTERVAL '0 03:00:00' DAY TO SECOND PRECEDING", "look-back"),
        ("range between 10800000 preceding and 1 preceding", "look-back"),
        (
            "{% set m = {'day': \"makeDate(intDiv(reg_hour, 1000000), 1, 1)\"} %}",
            "reg_hour decoding",
        ),
        (
            "{%- set marts = [\n    {'day': \"makeDate(intDiv(reg_hour, 100), 1, 1)\"},\n] %}",
            "reg_hour decoding",
        ),
    ],
)
def test_sql_copies_are_found(sql: str, rule: str) -> None:
    assert rule in {found for found, _ in sql_copies(sql)}


def test_comments_and_prose_are_not_copies() -> None:
    assert list(sql_copies("-- look-back 10800000 ms, lost >= 20\nselect 1")) == []
    assert list(python_copies('"""lost >= 20 and 10800 in prose"""\n# lost >= 20\n')) == []
    assert list(python_copies("delay = rng.randrange(1_800, 10_800)")) == []  # not a look-back
