"""Just enough of ClickHouse's lexical rules to route an HTTP request.

The server never interprets SQL semantics (the engine does that, including read-only
enforcement). It only needs to know, for a statement's text:

- its leading keyword (is it an INSERT with data attached, a SELECT that can stream?);
- the ``FORMAT <name>`` clause at the top level, if any;
- for ``INSERT ... FORMAT x <data>`` or ``INSERT ... VALUES <data>``, where the statement
  ends and the data begins, so the data can be streamed into the engine.

The scanner skips string literals, quoted identifiers and comments, and tracks
parenthesis depth, so ``format(...)`` or ``'FORMAT JSON'`` inside a query are not taken
for clauses.

This is framing and routing only; no security decision rests on it (access.py decides
from the engine's own parse). The engine's lexer (``tokenizeQuery``) was tried here and
left: each call is one more engine query (about as costly as ``SELECT 1``), taken before
the request has a connection of its own, so on the server's shared connection under one
lock. Side by side with ``classpulse bench warehouse`` (300 small queries, 3 alternating
pairs on a machine loaded by other work) it made small requests 1.15-2.2 times slower,
far over the 10 % such a lookup may cost. Data after ``FORMAT`` is never sent to a lexer.
"""

from __future__ import annotations

from dataclasses import dataclass

_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_WORD_CHARS = _WORD_START | frozenset("0123456789$")


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "punct", "quoted"
    text: str
    start: int
    end: int
    depth: int


def tokens(sql: str, limit: int | None = None):
    """Yield the tokens of ``sql`` (comments and whitespace dropped).

    ``limit`` stops after that many characters have been scanned, for peeking at the
    head of a large body.
    """
    index = 0
    depth = 0
    length = len(sql) if limit is None else min(len(sql), limit)
    while index < length:
        char = sql[index]
        if char in " \t\r\n\f\v":
            index += 1
        elif char == "-" and sql.startswith("--", index) or char == "#":
            newline = sql.find("\n", index)
            index = length if newline < 0 else newline + 1
        elif char == "/" and sql.startswith("/*", index):
            index = _skip_block_comment(sql, index)
        elif char in "'\"`":
            end = _skip_quoted(sql, index, char)
            yield Token("quoted", sql[index:end], index, end, depth)
            index = end
        elif char in _WORD_START:
            end = index + 1
            while end < length and sql[end] in _WORD_CHARS:
                end += 1
            yield Token("word", sql[index:end], index, end, depth)
            index = end
        else:
            if char == "(" or char == "[":
                yield Token("punct", char, index, index + 1, depth)
                depth += 1
            elif char == ")" or char == "]":
                depth = max(0, depth - 1)
                yield Token("punct", char, index, index + 1, depth)
            else:
                yield Token("punct", char, index, index + 1, depth)
            index += 1


def _skip_block_comment(sql: str, index: int) -> int:
    # ClickHouse block comments nest.
    level = 0
    while index < len(sql):
        if sql.startswith("/*", index):
            level += 1
            index += 2
        elif sql.startswith("*/", index):
            level -= 1
            index += 2
            if level == 0:
                return index
        else:
            index += 1
    return index


def _skip_quoted(sql: str, index: int, quote: str) -> int:
    index += 1
    while index < len(sql):
        char = sql[index]
        if char == "\\":
            index += 2
        elif char == quote:
            if index + 1 < len(sql) and sql[index + 1] == quote:
                index += 2  # doubled quote escapes itself
            else:
                return index + 1
        else:
            index += 1
    return index


def leading_keyword(sql: str) -> str:
    """The first word of the statement, upper-cased ('' if none)."""
    for token in tokens(sql, limit=64 * 1024):
        if token.kind == "word":
            return token.text.upper()
        if token.kind == "punct" and token.text == "(":
            continue  # "(SELECT ...) UNION ..."
        return ""
    return ""


def format_clause(sql: str, known_formats: frozenset[str]) -> str | None:
    """The name in a top-level ``FORMAT <name>`` clause, as written, or None.

    ``known_formats`` holds lower-cased format names; a word after FORMAT that is not
    a format (``SELECT format FROM t``) is not a clause.
    """
    previous: Token | None = None
    found: str | None = None
    for token in tokens(sql):
        if (
            previous is not None
            and previous.depth == 0
            and previous.kind == "word"
            and previous.text.upper() == "FORMAT"
            and token.kind == "word"
            and token.depth == 0
            and token.text.lower() in known_formats
        ):
            found = token.text
        previous = token
    return found


@dataclass(frozen=True)
class InsertSplit:
    """An INSERT whose data follows the statement text.

    ``statement`` is the INSERT without its FORMAT/VALUES part, ready for the engine's
    streaming insert; ``data_offset`` is where the data starts in the scanned text.
    """

    statement: str
    format_name: str
    data_offset: int
    selects: bool = False  # INSERT ... SELECT ... FROM input() FORMAT x


def split_insert(sql: str, known_formats: frozenset[str]) -> InsertSplit | None:
    """Find where the data of ``INSERT ... FORMAT x`` / ``INSERT ... VALUES`` begins.

    Returns None for text that is not an INSERT and for ``INSERT ... SELECT`` without a
    FORMAT clause. ``INSERT ... SELECT ... FROM input() FORMAT x`` is split at its FORMAT
    clause like any other (the caller decides what it can do with it). The data offset
    follows ClickHouse's parser: after the format name, spaces and tabs are skipped,
    then one optional CR and one optional LF.
    """
    stream = tokens(sql)
    first = next(stream, None)
    if first is None or first.kind != "word" or first.text.upper() != "INSERT":
        return None
    previous: Token | None = None
    selects = False
    for token in stream:
        after_format = (
            previous is not None
            and previous.kind == "word"
            and previous.depth == 0
            and previous.text.upper() == "FORMAT"
        )
        if token.depth == 0 and token.kind == "word":
            upper = token.text.upper()
            if after_format and token.text.lower() in known_formats:
                offset = token.end
                while offset < len(sql) and sql[offset] in " \t\f":
                    offset += 1
                if offset < len(sql) and sql[offset] == "\r":
                    offset += 1
                if offset < len(sql) and sql[offset] == "\n":
                    offset += 1
                return InsertSplit(
                    sql[: previous.start].rstrip(), token.text, offset, selects=selects
                )
            if upper == "VALUES" and not selects:
                return InsertSplit(sql[: token.start].rstrip(), "Values", token.end)
            if upper in ("SELECT", "WITH"):
                selects = True
        previous = token
    return None


_READ_KEYWORDS = frozenset(
    {"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXISTS", "EXPLAIN", "CHECK", ""}
)


def is_read_statement(sql: str) -> bool:
    """True for statements that only read (used to keep GET requests read-only)."""
    return leading_keyword(sql) in _READ_KEYWORDS


def quote_string(value: str) -> str:
    """A ClickHouse string literal for ``value``."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def escape_parameter(value: str) -> str:
    """A query-parameter value in the escaped form ClickHouse parses parameters in."""
    return (
        value.replace("\\", "\\\\")
        .replace("\n", "\\n")
        .replace("\t", "\\t")
        .replace("\r", "\\r")
        .replace("\0", "\\0")
    )


def unquote_literal(text: str) -> str | None:
    """The value of a string literal as EXPLAIN AST shows it ('...'), or None if the
    text is not a string literal this function can read exactly."""
    if len(text) < 2 or text[0] != "'" or text[-1] != "'":
        return None
    body = text[1:-1]
    out: list[str] = []
    simple = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "b": "\b", "f": "\f", "a": "\a"}
    simple.update({"v": "\v", "e": "\x1b", "\\": "\\", "'": "'", '"': '"', "`": "`", "/": "/"})
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            if index + 1 >= len(body):
                return None
            escaped = body[index + 1]
            if escaped in simple:
                out.append(simple[escaped])
                index += 2
            elif escaped == "x" and index + 3 < len(body) + 1:
                try:
                    out.append(chr(int(body[index + 2 : index + 4], 16)))
                except ValueError:
                    return None
                index += 4
            else:
                return None
        elif char == "'":
            return None  # an unescaped quote: not one literal
        else:
            out.append(char)
            index += 1
    return "".join(out)
