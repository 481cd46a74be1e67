"""What a Flink SQL statement is, decided by Flink's own SQL parser through PyFlink's JVM.

Flink parses SQL with Calcite and its own grammar (``FlinkSqlParserImpl``). The planner's
classes live in a class loader of their own (``flink-table-planner-loader``); this module asks
that loader for the parser, parses one statement at a time (``parseStmtList``) and reads the
tree: a ``SqlCreateTable`` (its name, its watermark), a ``SqlCreateView`` (its name and where its
query is in the text), a ``RichSqlInsert`` (its target and where the target's name ends), and
of any query the tables it reads (``FROM``, joins, ``TABLE x`` arguments, temporal joins,
subqueries), its ``UNNEST``s, its literals named by an alias (``'x' AS mart``) and a WHERE that
is exactly ``<column> IS NULL``.

The JVM is PyFlink's gateway (``pyflink.java_gateway.get_gateway``), started once per process
(a FlinkSession of the same process reuses it) and only for a statement no process read before:
each statement's reading is kept per process and on disk (:mod:`classpulse.answer_cache`), by its
text and the versions of PyFlink and sqlfluff, its rejection by the parser too.
A ``${VARIABLE}`` outside a string (filled when the job runs) is parsed as a backquoted name of
the same length, so positions in the tree are positions in the text given.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from classpulse.flink.sqltokens import FLINK_SQL_ANSWERS, SqlFileError, tokens

_PARSER = "org.apache.flink.sql.parser.impl.FlinkSqlParserImpl"
_CONFORMANCE = "org.apache.flink.sql.parser.validate.FlinkSqlConformance"
_CALCITE = "org.apache.calcite."


@dataclass(frozen=True)
class Statement:
    """What Flink's parser read in one statement; offsets are into the statement's text."""

    kind: str  # create table | create view | insert | other (the parser's class name)
    name: str | None = None  # the table or view created, the INSERT's target
    temporary: bool = False  # CREATE TEMPORARY VIEW
    has_watermark: bool = False
    reads: tuple[str, ...] = ()  # tables and views the statement reads, in order of appearance
    unnests: bool = False
    aliased_literals: tuple[tuple[str, str], ...] = ()  # ('x' AS alias) -> (alias, 'x')
    where_is_null: str | None = None  # the column of a WHERE that is exactly <column> IS NULL
    has_where: bool = False
    query_span: tuple[int, int] | None = None  # a view's query: [start, end) in the text
    target_end: int | None = None  # an INSERT: the offset just after its target's name


class _Parser:
    """Flink's parser, loaded once from the planner's class loader of PyFlink's JVM."""

    def __init__(self) -> None:
        from classpulse.java import ensure_java_home

        ensure_java_home()
        from pyflink.java_gateway import get_gateway

        gateway = get_gateway()
        self.gateway = gateway
        module = gateway.jvm.org.apache.flink.table.planner.loader.PlannerModule.getInstance()
        self.loader = module.getSubmoduleClassLoader()
        parser_class = self._load(_CALCITE + "sql.parser.SqlParser")
        config = parser_class.getMethod("config", self._classes()).invoke(None, self._objects())
        self.config = (
            config.withParserFactory(self._static(_PARSER, "FACTORY"))
            .withConformance(self._static(_CONFORMANCE, "DEFAULT"))
            .withLex(self._static(_CALCITE + "config.Lex", "JAVA"))
        )
        self.create = parser_class.getMethod(
            "create",
            self._classes(
                gateway.jvm.java.lang.Class.forName("java.lang.String"),
                self._load(_CALCITE + "sql.parser.SqlParser$Config"),
            ),
        )

    def _load(self, name: str) -> Any:
        return self.gateway.jvm.java.lang.Class.forName(name, True, self.loader)

    def _static(self, class_name: str, field: str) -> Any:
        return self._load(class_name).getField(field).get(None)

    def _classes(self, *values: Any) -> Any:
        array = self.gateway.new_array(self.gateway.jvm.java.lang.Class, len(values))
        for index, value in enumerate(values):
            array[index] = value
        return array

    def _objects(self, *values: Any) -> Any:
        array = self.gateway.new_array(self.gateway.jvm.java.lang.Object, len(values))
        for index, value in enumerate(values):
            array[index] = value
        return array

    def parse(self, text: str) -> Any:
        """The one SqlNode of ``text``; SqlFileError with Flink's message when it does not parse
        (a :class:`_Rejected` when the parser itself said so, an answer to keep)."""
        from py4j.protocol import Py4JJavaError

        try:
            parser = self.create.invoke(None, self._objects(text, self.config))
            nodes = _items(parser.parseStmtList().getList())
        except Exception as exc:  # py4j wraps the parser's SqlParseException
            cause = str(exc).split("\n")
            detail = next((line for line in cause if "Exception" in line), cause[0])
            message = f"Flink's SQL parser rejects it: {detail.strip()}"
            if isinstance(exc, Py4JJavaError):  # thrown in the JVM: the parser's own answer
                raise _Rejected(message) from None
            raise SqlFileError(message) from None
        if len(nodes) != 1:
            raise _Rejected(f"expected one statement, Flink's parser read {len(nodes)}")
        return nodes[0]


class _Rejected(SqlFileError):
    """The parser's own rejection of a text: the same text is rejected again (kept on disk)."""


@lru_cache(maxsize=1)
def _parser() -> _Parser:
    return _Parser()


def _parsable(text: str) -> str:
    """``text`` with each ``${VARIABLE}`` token as a backquoted name of the same length."""
    if "${" not in text:  # no variable, nothing to lex
        return text
    parts = []
    for token in tokens(text):
        is_variable = token.kind == "flink_variable"
        parts.append(f"`{token.text[1:-1]}`" if is_variable else token.text)
    return "".join(parts)


class _Offsets:
    """Calcite's 1-based line and column positions as offsets into the text."""

    def __init__(self, text: str) -> None:
        self.line_starts = [0]
        for index, char in enumerate(text):
            if char == "\n":
                self.line_starts.append(index + 1)

    def start(self, node: Any) -> int:
        position = node.getParserPosition()
        return self.line_starts[position.getLineNum() - 1] + position.getColumnNum() - 1

    def end(self, node: Any) -> int:
        position = node.getParserPosition()
        return self.line_starts[position.getEndLineNum() - 1] + position.getEndColumnNum()


def _kind(node: Any) -> str:
    return str(node.getKind().toString())


def _class_name(node: Any) -> str:
    return str(node.getClass().getSimpleName())


def _items(java_list: Any) -> list[Any]:
    """The items of a Java list, by index (py4j's iterator ends on a Java exception: 8 calls)."""
    return [java_list.get(index) for index in range(java_list.size())]


def _children(node: Any) -> list[Any]:
    """The operands of a call, the items of a list; nothing for a leaf."""
    from py4j.java_collections import JavaList
    from py4j.protocol import Py4JError

    if isinstance(node, JavaList):  # a SqlNodeList, converted by py4j
        return [item for item in _items(node) if item is not None]
    class_name = _class_name(node)
    if class_name in ("SqlIdentifier", "SqlDataTypeSpec") or "Literal" in class_name:
        return []
    try:
        operands = node.getOperandList()
    except Py4JError:  # a node that is no call has no operands
        return []
    return [operand for operand in _items(operands) if operand is not None]


# Every node is a round trip to the JVM: a subtree whose unparsed text (keywords in capitals,
# names backquoted) has none of these keywords holds no table read and no UNNEST, and is
# skipped unread. Only a shortcut: a string that happens to contain one is read in full.
_QUERY_KEYWORDS = ("SELECT", "TABLE", "UNNEST")


def _may_read_tables(node: Any) -> bool:
    from py4j.protocol import Py4JError

    try:
        text = str(node.toString())
    except Py4JError:  # a node Calcite unparses only inside its parent (TABLE x PARTITION BY)
        return True
    return any(keyword in text for keyword in _QUERY_KEYWORDS)


class _QueryWalk:
    """One pass over a query's tree collecting what :class:`Statement` reports."""

    def __init__(self) -> None:
        self.reads: list[str] = []
        self.unnests = False
        self.aliased_literals: list[tuple[str, str]] = []

    def walk(self, node: Any, table_position: bool) -> None:
        from py4j.java_collections import JavaList

        if not table_position and not _may_read_tables(node):
            return
        if isinstance(node, JavaList):
            for item in _children(node):
                self.walk(item, False)
            return
        class_name = _class_name(node)
        if class_name == "SqlIdentifier":
            if table_position:
                self.reads.append(str(node.toString()))
            return
        if class_name == "SqlSelect":
            self._walk_select(node)
            return
        if class_name == "SqlJoin":
            self.walk(node.getLeft(), True)
            self.walk(node.getRight(), True)
            if node.getCondition() is not None:
                self.walk(node.getCondition(), False)
            return
        if class_name == "SqlSnapshot":
            self.walk(node.getTableRef(), table_position)
            return
        kind = _kind(node) if class_name in ("SqlBasicCall", "SqlCall") else ""
        if kind == "AS":
            self.walk(_children(node)[0], table_position)
            return
        self.unnests = self.unnests or kind == "UNNEST"
        # TABLE x (a table function's argument), TABLE x PARTITION BY ...: x is read
        first_is_table = kind in ("EXPLICIT_TABLE", "SET_SEMANTICS_TABLE")
        first_is_table = first_is_table or class_name == "SqlMatchRecognize"
        for index, child in enumerate(_children(node)):
            self.walk(child, first_is_table and index == 0)

    def _walk_select(self, select: Any) -> None:
        if select.getFrom() is not None:
            self.walk(select.getFrom(), True)
        items = select.getSelectList()
        if "' AS `" in str(items.toString()):  # a literal named by an alias: read the items
            for item in _children(items):
                self._note_alias(item)
        for part in (items, select.getWhere(), select.getHaving()):
            if part is not None:
                self.walk(part, False)

    def _note_alias(self, item: Any) -> None:
        if _class_name(item) != "SqlBasicCall" or _kind(item) != "AS":
            return
        value, alias = _children(item)[:2]
        if "CharStringLiteral" in _class_name(value):
            self.aliased_literals.append((str(alias.getSimple()), str(value.toValue())))


def _where_is_null(where: Any) -> str | None:
    if _kind(where) != "IS_NULL":
        return None
    (operand,) = _children(where)
    is_name = _class_name(operand) == "SqlIdentifier"
    return str(operand.toString()) if is_name else None


@lru_cache(maxsize=1024)
def read_statement(text: str) -> Statement:
    """What Flink's parser says ``text`` (one statement, no ``apply template``) is.

    Read from disk when a process read the same text before (no JVM started); else parsed."""
    read = json.loads(FLINK_SQL_ANSWERS.answer("statement", text, lambda: _answer(text)))
    if "error" in read:
        raise SqlFileError(read["error"])
    for name in ("reads", "query_span"):
        if read[name] is not None:
            read[name] = tuple(read[name])
    read["aliased_literals"] = tuple(tuple(pair) for pair in read["aliased_literals"])
    return Statement(**read)


def _answer(text: str) -> str:
    """The parser's reading of ``text`` as kept on disk, or its rejection."""
    try:
        return json.dumps(asdict(_parse_statement(text)))
    except _Rejected as exc:
        return json.dumps({"error": str(exc)})


def _parse_statement(text: str) -> Statement:
    node = _parser().parse(_parsable(text))
    class_name = _class_name(node)
    offsets = _Offsets(text)
    if class_name.startswith("SqlCreateTable"):
        return Statement(
            "create table",
            name=str(node.getName().getSimple()),
            has_watermark=bool(node.getWatermark().isPresent()),
        )
    if class_name == "SqlCreateView":
        query = node.getQuery()
        walk = _QueryWalk()
        walk.walk(query, False)
        return Statement(
            "create view",
            name=str(node.getName().getSimple()),
            temporary=bool(node.isTemporary()),
            reads=tuple(walk.reads),
            unnests=walk.unnests,
            aliased_literals=tuple(walk.aliased_literals),
            query_span=(offsets.start(query), offsets.end(query)),
        )
    if class_name == "RichSqlInsert":
        target = node.getTargetTable()
        if _class_name(target) == "SqlTableRef":  # a target with hints
            target = _children(target)[0]
        source = node.getSource()
        walk = _QueryWalk()
        walk.walk(source, False)
        is_select = _class_name(source) == "SqlSelect"
        where = source.getWhere() if is_select else None
        return Statement(
            "insert",
            name=str(target.toString()),
            reads=tuple(walk.reads),
            unnests=walk.unnests,
            aliased_literals=tuple(walk.aliased_literals),
            has_where=where is not None or not is_select,
            where_is_null=_where_is_null(where) if where is not None else None,
            target_end=offsets.end(target),
        )
    return Statement(class_name)
