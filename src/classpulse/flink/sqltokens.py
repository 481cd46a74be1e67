"""Flink SQL on the lexer level: statements, comments, directives, read with sqlfluff's lexer.

sqlfluff's lexer for the flink dialect knows quoted strings (``'it''s'``), backquoted names,
``--`` and ``/* */`` comments and ``$$...$$`` bodies, so a ``;`` or a keyword inside any of them
is never taken for code. One token is added to the dialect's: a ``${VARIABLE}`` (filled when a
job runs, :mod:`classpulse.flink.variables`) is one code token, not unlexable characters.

What a statement *is* is decided by Flink's own parser (:mod:`classpulse.flink.sqlparser`);
this module only splits text into statements and reads what is no Flink SQL: comments (a file's
header, its ``-- role:`` line) and our ``apply template <name> (<argument> = '<text>', ...)``
directive.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from classpulse.answer_cache import AnswerCache

if TYPE_CHECKING:
    from sqlfluff.core import Lexer

_LAYOUT = frozenset({"whitespace", "newline", "end_of_file"})
_COMMENTS = frozenset({"inline_comment", "block_comment"})


class SqlFileError(ValueError):
    """Text the lexer cannot read, or a directive written wrong, with where and what to do."""


@dataclass(frozen=True)
class Token:
    """One lexer token: its text, its sqlfluff type, its offset in the text lexed."""

    text: str
    kind: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    @property
    def is_comment(self) -> bool:
        return self.kind in _COMMENTS

    @property
    def is_code(self) -> bool:
        return self.kind not in _LAYOUT and not self.is_comment

    def is_word(self, word: str) -> bool:
        """True for the (case-insensitive) keyword or name ``word``."""
        return self.kind == "word" and self.text.lower() == word


# What the lexer answered, kept on disk per text (sqlfluff takes seconds to import, a file a
# second to lex): a process whose files were read before imports no sqlfluff. Shared with the
# parser (:mod:`.sqlparser`); raise the format when a kept answer's shape or meaning changes.
FLINK_SQL_ANSWERS = AnswerCache("flink-sql", ["apache-flink", "sqlfluff"], format_number=1)


@lru_cache(maxsize=1)
def _lexer() -> Lexer:
    # imported on the first text no process lexed before
    from sqlfluff.core import Lexer
    from sqlfluff.core.parser.lexer import RegexLexer
    from sqlfluff.core.parser.segments import CodeSegment

    lexer = Lexer(dialect="flink")
    variable = RegexLexer("flink_variable", r"\$\{\w+\}", CodeSegment)
    lexer.lexer_matchers = [variable, *lexer.lexer_matchers]
    return lexer


# The tokens of texts lexed before, and of the statements split from them (sqlfluff's lexer is
# slow: a statement is not lexed again when its file was). Emptied when it grows large.
_KNOWN: dict[str, tuple[Token, ...]] = {}
_KNOWN_LIMIT = 4096


def tokens(text: str) -> tuple[Token, ...]:
    """The tokens of ``text``; a string written with doubled quotes (``'it''s'``) is one token.

    Raises :class:`SqlFileError` for characters the lexer cannot read and for a ``\\'`` inside a
    string (sqlfluff reads it as an escaped quote, Flink as a backslash and the string's end).
    """
    known = _KNOWN.get(text)
    if known is None:
        known = _from_answer(text, FLINK_SQL_ANSWERS.answer("tokens", text, lambda: _answer(text)))
        _remember(text, known)
    return known


def _answer(text: str) -> str:
    """The lexer's answer as kept on disk: each token's kind and length, or the error."""
    try:
        lexed = _lex(text)
    except SqlFileError as exc:
        return json.dumps({"error": str(exc)})
    return json.dumps({"tokens": [[token.kind, len(token.text)] for token in lexed]})


def _from_answer(text: str, answer: str) -> tuple[Token, ...]:
    read = json.loads(answer)
    if "error" in read:
        raise SqlFileError(read["error"])
    out = []
    offset = 0
    for kind, length in read["tokens"]:
        out.append(Token(text[offset : offset + length], kind, offset))
        offset += length
    return tuple(out)


def _remember(text: str, lexed: tuple[Token, ...]) -> None:
    if len(_KNOWN) >= _KNOWN_LIMIT:
        _KNOWN.clear()
    _KNOWN[text] = lexed


def _tokens_between(lexed: tuple[Token, ...], start: int, end: int) -> tuple[Token, ...]:
    """The tokens of ``text[start:end]`` from those of ``text``, where both ends fall inside
    layout (whitespace) tokens or between tokens: a layout token is cut at the ends."""
    out = []
    for token in lexed:
        if token.end <= start or token.start >= end:
            continue
        if token.start < start or token.end > end:
            cut = token.text[
                max(start - token.start, 0) : len(token.text) - max(token.end - end, 0)
            ]
            token = Token(cut, token.kind, max(token.start, start))
        out.append(Token(token.text, token.kind, token.start - start))
    return tuple(out)


def _lex(text: str) -> tuple[Token, ...]:
    from classpulse.sql_keyword_case import misread_literal

    segments, errors = _lexer().lex(text)
    if errors:
        raise SqlFileError(f"the SQL lexer cannot read it: {errors[0]}")
    misread = misread_literal(segments)
    if misread is not None:
        raise SqlFileError(
            f"the string {misread.raw[:40]!r} has a backslash before a quote: Flink ends the "
            "string there, the lexer would not; write it without (LIKE 'DM!_%' ESCAPE '!')"
        )
    out: list[Token] = []
    offset = 0
    for segment in segments:
        kind = segment.get_type()
        previous = out[-1] if out else None
        if (
            kind == "single_quote"
            and previous is not None
            and previous.kind == kind
            and previous.end == offset
        ):
            out[-1] = Token(previous.text + segment.raw, kind, previous.start)
        elif segment.raw:
            out.append(Token(segment.raw, kind, offset))
        offset += len(segment.raw)
    return tuple(out)


def code_tokens(text: str) -> list[Token]:
    """The tokens of ``text`` that are code (no comments, no layout)."""
    return [token for token in tokens(text) if token.is_code]


def split_statements(text: str) -> list[str]:
    """The statements of ``text``, split on the ``;`` tokens, each stripped.

    Comments stay with the statement that follows them; a part with no code is dropped.
    """
    lexed = tokens(text)
    statements: list[str] = []
    start, has_code = 0, False
    for token in (*lexed, Token(";", "semicolon", len(text))):
        if token.kind == "semicolon":
            if has_code:
                part = text[start : token.start]
                first = start + len(part) - len(part.lstrip())
                statement = part.strip()
                _remember(statement, _tokens_between(lexed, first, first + len(statement)))
                statements.append(statement)
            start, has_code = token.end, False
        elif token.is_code:
            has_code = True
    return statements


def strip_comments(text: str, *, strings: bool = False) -> str:
    """The text without its comments (and with each string literal as ``''`` if ``strings``)."""
    parts = []
    for token in tokens(text):
        if token.is_comment:
            continue
        parts.append("''" if strings and token.kind == "single_quote" else token.text)
    return "".join(parts)


def _comment_body(token: Token) -> str:
    return token.text[2:].strip()


def header_comment(text: str) -> str:
    """The ``--`` comments before a file's first blank line or code, joined (no role line)."""
    lines: list[str] = []
    newlines = 0
    for token in tokens(text):
        if token.kind == "newline":
            newlines += 1
            if newlines > 1:
                break
        elif token.kind == "inline_comment":
            newlines = 0
            body = _comment_body(token)
            if body and not body.startswith("role:"):  # a table's role (connectors.py)
                lines.append(body)
        elif token.kind != "whitespace":
            break
    return " ".join(lines)


def comment_directives(text: str, directive: str) -> list[str]:
    """The values of the ``-- <directive>: <value>`` comments of ``text``, in order."""
    prefix = f"{directive}:"
    return [
        _comment_body(token)[len(prefix) :].strip()
        for token in tokens(text)
        if token.kind == "inline_comment" and _comment_body(token).startswith(prefix)
    ]


@dataclass(frozen=True)
class TemplateCall:
    """One ``apply template <name> (<argument> = <text>, ...)`` directive."""

    name: str
    arguments: dict[str, str]


def _argument_value(token: Token) -> str | None:
    if token.kind == "single_quote" and len(token.text) >= 2:
        return token.text[1:-1].replace("''", "'")
    if token.kind == "dollar_quote" and token.text.startswith("$$") and len(token.text) >= 4:
        return token.text[2:-2]
    return None


def read_template_call(statement: str, where: str) -> TemplateCall | None:
    """The directive ``statement`` is, or None when it does not start with ``apply template``.

    An argument's text is a SQL string (a quote in it doubled) or the text between ``$$`` and
    ``$$`` (SQL with its quotes as they are). Malformed directives raise SqlFileError.
    """
    code = code_tokens(statement)
    if len(code) < 2 or not (code[0].is_word("apply") and code[1].is_word("template")):
        return None
    usage = f"{where}: write apply template <name> (<argument> = '<text>', ...)"
    rest = code[2:]
    if len(rest) < 3 or rest[0].kind != "word" or rest[1].text != "(" or rest[-1].text != ")":
        raise SqlFileError(f"{usage}; found {strip_comments(statement).strip()!r}")
    arguments: dict[str, str] = {}
    inner = rest[2:-1]
    index = 0
    while index < len(inner):
        part = inner[index : index + 3]
        value = _argument_value(part[2]) if len(part) == 3 else None
        if len(part) < 3 or part[0].kind != "word" or part[1].text != "=" or value is None:
            found = statement[inner[index].start : inner[-1].end]
            raise SqlFileError(f"{where}: expected <argument> = '<text>' at {found!r}")
        if part[0].text in arguments:
            raise SqlFileError(f"{where}: argument {part[0].text!r} given twice")
        arguments[part[0].text] = value
        index += 3
        if index < len(inner):
            if inner[index].kind != "comma":
                raise SqlFileError(f"{usage}; expected ',' at {inner[index].text!r}")
            index += 1
    return TemplateCall(rest[0].text, arguments)
