"""The engine's own reading of one statement, with nothing of the statement run.

The access policy (``warehouse/access.py``) decides on this reading:

- the engine renders the statement on one line (``formatQuerySingleLine``, the text passed as
  a query parameter): one statement only, as ClickHouse's HTTP interface accepts;
- the engine's syntax tree of that rendering as a document (``parseQueryToJSON``, in the
  same engine call) is walked for ``INTO OUTFILE``, ``FROM INFILE`` and settings whose
  values are SQL, wherever they sit, before anything is explained (``EXPLAIN`` would write
  an ``INTO OUTFILE`` it is handed). A statement the engine has no JSON form of is read on
  the engine's lexer instead (``tokenizeQuery``), failing closed;
- then ``EXPLAIN AST`` of the rendering, with the request's ``param_*`` values substituted
  as they will be when it runs, becomes a tree of :class:`Node` for the policy's rules.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from classpulse.warehouse.engine import ServerError, engine_error
from classpulse.warehouse.scratch import syntax_nodes
from classpulse.warehouse.sqltext import escape_parameter

# Parsed statement heads kept (an INSERT's head repeats on every batch of a table)
PARSED_CACHE_SIZE = 256

STATEMENT_PARAMETER = "classpulse_statement"
STATEMENT_ARGUMENT = f"{{{STATEMENT_PARAMETER}:String}}"  # the text, bound
# Settings whose values are SQL expressions the engine evaluates (file() in one of them
# would run unchecked): not available over HTTP.
EXPRESSION_SETTINGS = frozenset({"additional_table_filters", "additional_result_filter"})


def expression_setting_message(name: str) -> str:
    return (
        f"setting {name} is not available on the embedded server: its value is SQL that "
        "runs unchecked. Put the condition in the query's WHERE clause"
    )


@dataclass
class Node:
    """One line of ``EXPLAIN AST``: its kind, the rest of the line, its children."""

    kind: str
    text: str
    children: list[Node] = field(default_factory=list)

    @property
    def name(self) -> str:
        """A function's or identifier's name (without an alias)."""
        text = self.text
        if text.endswith(")") and " (alias " in text:
            text = text[: text.rindex(" (alias ")]
        return text.strip()

    def arguments(self) -> list[Node]:
        for child in self.children:
            if child.kind == "ExpressionList":
                return child.children
        return []

    def walk(self, parent: Node | None = None):
        yield self, parent
        for child in self.children:
            yield from child.walk(self)


def parse_tree(dump: str) -> Node:
    """The tree of an ``EXPLAIN AST`` dump (one node per line, one space per level)."""
    root: Node | None = None
    stack: list[tuple[int, Node]] = []
    for line in dump.split("\n"):  # not splitlines(): \x0b, \x1e... may sit in literals
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip(" "))
        content = line.strip()
        if content.endswith(")") and " (children " in content:
            content = content[: content.rindex(" (children ")]
        kind, _, text = content.partition(" ")
        node = Node(kind, text)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            stack[-1][1].children.append(node)
        elif root is None:
            root = node
        else:
            raise ServerError(62, "SYNTAX_ERROR", "Multi-statements are not allowed")
        stack.append((depth, node))
    if root is None:
        raise ServerError(62, "SYNTAX_ERROR", "Empty query")
    return root


def denied(message: str) -> ServerError:
    return ServerError(497, "ACCESS_DENIED", message)


def outfile_refused() -> ServerError:
    return ServerError(
        358,
        "INTO_OUTFILE_NOT_ALLOWED",
        "INTO OUTFILE is not allowed: the server does not write files for HTTP clients. "
        "Read the result from the response (curl -o file, or your client's export)",
    )


def infile_refused() -> ServerError:
    return denied(
        "INSERT ... FROM INFILE is not allowed: the server does not read files for HTTP "
        "clients. Send the data in the request body"
    )


def refuse_files_and_expression_settings(document: object) -> None:
    """Walk the engine's syntax tree of a statement (``parseQueryToJSON``) and refuse
    ``INTO OUTFILE`` and ``FROM INFILE`` wherever they sit (a subquery, an ``EXPLAIN``),
    and any ``SETTINGS`` or ``SET`` naming a setting whose value is SQL."""
    for node in syntax_nodes(document):
        if "out_file" in node:
            raise outfile_refused()
        if "infile" in node:
            raise infile_refused()
        if node.get("type") == "SetQuery":
            for change in node.get("changes") or ():
                name = str(change.get("name", "")) if isinstance(change, dict) else ""
                if name.lower() in EXPRESSION_SETTINGS:
                    raise denied(expression_setting_message(name))


def one_line(formatted: str) -> str:
    """The engine's rendering of one statement, or refused if it is anything else."""
    formatted = formatted.rstrip("\n")
    if "\n" in formatted:  # one line, one statement: anything else is not understood
        raise denied("the statement could not be checked (unexpected rendering)")
    return formatted


def select_on_text(connection, expressions: str, text: str):
    """``SELECT expressions`` with ``text`` bound as the statement parameter (nothing of
    the text runs), one JSON array a row."""
    return connection.query(
        f"SELECT {expressions}",
        "JSONCompactEachRow",
        params={STATEMENT_PARAMETER: escape_parameter(text)},
    )


def refuse_words_of_files_and_expression_settings(connection, formatted: str) -> None:
    """For a statement the engine has no JSON tree of: refuse it if the engine's lexer
    (``tokenizeQuery``) finds the word OUTFILE or INFILE, or a setting whose value is
    SQL, anywhere in it outside string literals and comments (it fails closed)."""
    try:
        result = select_on_text(connection, f"tokenizeQuery({STATEMENT_ARGUMENT})", formatted)
    except Exception as exc:
        raise engine_error(exc) from None
    data = formatted.encode("utf-8")
    for token in json.loads(result.bytes())[0]:
        if token["type"] not in ("BareWord", "QuotedIdentifier"):
            continue
        word = data[token["begin"] : token["end"]].decode("utf-8", errors="replace")
        if token["type"] == "QuotedIdentifier":
            word = word[1:-1]
        elif word.upper() == "OUTFILE":
            raise outfile_refused()
        elif word.upper() == "INFILE":
            raise infile_refused()
        if word.lower() in EXPRESSION_SETTINGS:
            raise denied(expression_setting_message(word))


class StatementReader:
    """The engine's trees of statements; the trees of repeated ones (an INSERT's head, on
    every batch a loader sends) kept, a bounded number, least recently used first out."""

    def __init__(self) -> None:
        self._parsed: OrderedDict[tuple[str, tuple[tuple[str, str], ...]], Node] = OrderedDict()
        self._parsed_lock = threading.Lock()

    def tree(
        self, connection, text: str, params: dict[str, str], *, reuse_parse: bool = False
    ) -> Node:
        """The tree of ``text`` as it will run with ``params``; with ``reuse_parse`` the tree
        of the same text and parameters parsed before (only a tree that parsed is kept)."""
        key = (text, tuple(sorted(params.items())))
        tree = self._parsed_tree(key) if reuse_parse else None
        if tree is None:
            tree = self._parse(connection, text, params)
            if reuse_parse:
                self._keep_parsed(key, tree)
        return tree

    def _parse(self, connection, text: str, params: dict[str, str]) -> Node:
        formatted, document = self._format_and_read(connection, text)
        refuse_files_and_expression_settings(document)
        try:
            dump = connection.query(
                "EXPLAIN AST " + formatted, "TabSeparatedRaw", params=params
            ).bytes()
        except Exception as exc:
            raise engine_error(exc) from None
        return parse_tree(dump.decode("utf-8", errors="replace"))

    def _parsed_tree(self, key: tuple[str, tuple[tuple[str, str], ...]]) -> Node | None:
        with self._parsed_lock:
            tree = self._parsed.get(key)
            if tree is not None:
                self._parsed.move_to_end(key)
            return tree

    def _keep_parsed(self, key: tuple[str, tuple[tuple[str, str], ...]], tree: Node) -> None:
        with self._parsed_lock:
            self._parsed[key] = tree
            while len(self._parsed) > PARSED_CACHE_SIZE:
                self._parsed.popitem(last=False)

    @classmethod
    def _format_and_read(cls, connection, text: str) -> tuple[str, object]:
        """The engine's one-line rendering of ``text`` and its syntax tree of that rendering
        (``parseQueryToJSON``), in one engine call. Both take the text as a bound parameter:
        nothing of it runs. The tree is of the rendering because EXPLAIN is given the
        rendering (EXPLAIN would itself write an INTO OUTFILE it is handed)."""
        try:
            result = select_on_text(
                connection,
                f"formatQuerySingleLine({STATEMENT_ARGUMENT}) AS statement, "
                "parseQueryToJSON(statement)",
                text,
            )
        except Exception:
            # A syntax error (raised here as the engine words it), or a statement the
            # engine has no JSON form of (EXISTS, SHOW CREATE...): its tokens instead.
            formatted = one_line(cls._format(connection, text))
            refuse_words_of_files_and_expression_settings(connection, formatted)
            return formatted, None
        row = json.loads(result.bytes().decode("utf-8", errors="replace"))
        return one_line(str(row[0])), json.loads(row[1])

    @staticmethod
    def _format(connection, text: str) -> str:
        try:
            result = select_on_text(
                connection, f"formatQuerySingleLine({STATEMENT_ARGUMENT})", text
            )
        except Exception as exc:
            error = engine_error(exc)
            # The engine names the function and the parameter in a syntax error; the
            # client wants to know about its statement only.
            error.text = error.text.replace(
                f": In scope SELECT formatQuerySingleLine({STATEMENT_ARGUMENT})", ""
            )
            raise error from None
        return json.loads(result.bytes().decode("utf-8", errors="replace"))[0]
