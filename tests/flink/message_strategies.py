"""Hypothesis strategies: messages for every source topic in arbitrary JSON layouts, valid or not.

A message starts as a tree of its contract fields (contract_classifier.TOPICS) holding mostly
valid values, sometimes null, absent or of a wrong type, plus unknown keys and repeated keys. It
is then written out in a random layout: key order, whitespace (space, tab, CR), escaped or raw
characters, numbers as JSON numbers or numeric strings, big integers, fractions, booleans, nested
nulls. Some messages are then broken as a whole (truncated, trailing content, not an object,
random text, a byte-order mark). A line never contains LF; it may end in CR (a CRLF line end).
Whether a message is valid is not decided here: contract_classifier decides from the text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contract_classifier import TOPICS, Field
from hypothesis import strategies as st


class Number(str):
    """A JSON number token, written as is."""


@dataclass
class Obj:
    """A JSON object as written: (key, value) pairs in order, repeats allowed."""

    pairs: list[tuple[str, Any]]


@dataclass
class Arr:
    items: list[Any]


ABSENT = object()

# -- values ------------------------------------------------------------------------------------

TEXTS = st.text(st.characters(exclude_characters="\n"), max_size=12)
WEIRD_TEXTS = st.sampled_from(
    [
        "",
        " ",
        "null",
        "true",
        "0",
        "1.5",
        "é",
        "测试",
        "😀",
        "a\\b",
        'q"q',
        "tab\there",
        "\u2028",
        "\x7f",
        "\x00",
        "\ud800",
        "\udc00x",
    ]
)  # the last two hold unpaired surrogates (written as escapes)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20).map(lambda n: Number(str(n))),
    st.sampled_from(["1.5", "-0.0", "1e3", "2E-2", "-1.25e+10", "0.1"]).map(Number),
    TEXTS,
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(Arr),
        st.lists(
            st.tuples(st.sampled_from(["a", "b", "userid", "msg", "id", ""]), inner), max_size=3
        ).map(Obj),
    ),
    max_leaves=6,
)

BIGINT_EDGES = [
    2**63 - 1,
    -(2**63),
    2**63,
    -(2**63) - 1,
    2**31 - 1,
    2**31,
    -(2**31),
    -(2**31) - 1,
    0,
    -1,
    10**30,
]
EPOCH = st.integers(1_500_000_000_000, 1_900_000_000_000)


def integers_written(numbers: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    """An integer as a JSON number or as a numeric string (sometimes with leading zeros)."""
    return st.tuples(numbers, st.integers(0, 9)).map(
        lambda pair: (
            Number(str(pair[0]))
            if pair[1] < 5
            else (f"{'-' if pair[0] < 0 else ''}00{abs(pair[0])}" if pair[1] == 9 else str(pair[0]))
        )
    )


NOT_INTEGERS = st.one_of(
    st.sampled_from(["abc", "", " 1", "1 ", "+1", "1.5", "1e3", "0x1F", "١٢", "-", "1_000"]),
    st.sampled_from(["1.5", "1.0", "-0.0", "1e3", "1E+2"]).map(Number),
    st.booleans(),
    st.builds(lambda: Obj([("a", Number("1"))])),
    st.builds(lambda: Arr([Number("1")])),
)

VALID_DATETIMES = st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59)).map(
    lambda m: f"{m.year:04d}-{m.month:02d}-{m.day:02d} {m.hour:02d}:{m.minute:02d}:{m.second:02d}"
)
NOT_DATETIMES = st.one_of(
    st.sampled_from(
        [
            "yesterday",
            "N/A",
            "",
            "2024-02-30 10:00:00",
            "2023-02-29 00:00:00",
            "1900-02-29 12:00:00",
            "2024-13-01 00:00:00",
            "2024-04-31 08:00:00",
            "2024-01-01 24:00:00",
            "2024-01-01 23:59:60",
            "0000-01-01 00:00:00",
            "2024-01-01T10:00:00",
            "2024-01-01 10:00",
            "2024-01-01 10:00:00.5",
            "2024-1-01 10:00:00",
            " 2024-01-01 10:00:00",
            "２０２４-01-01 10:00:00",
        ]
    ),
    st.integers(0, 2**40).map(lambda n: Number(str(n))),
    TEXTS,
)
LEAP_DAYS = st.sampled_from(["2024-02-29 23:59:59", "2000-02-29 00:00:00", "2026-11-20 08:00:00"])


def valid_values(spec: Field) -> st.SearchStrategy[Any]:
    """Values the contract takes, with edges; topic-specific ones make events likely."""
    special = SPECIAL.get(spec.column)
    if special is not None:
        return special
    if spec.kind == "bigint":
        return integers_written(
            st.one_of(
                st.integers(-1000, 10**6),
                EPOCH,
                st.sampled_from([n for n in BIGINT_EDGES if -(2**63) <= n < 2**63]),
            )
        )
    if spec.kind == "int":
        return integers_written(
            st.one_of(st.integers(-5, 5), st.sampled_from([2**31 - 1, -(2**31)]))
        )
    if spec.kind == "id":
        return st.one_of(
            st.from_regex(r"[a-z]{0,2}[0-9]{1,6}", fullmatch=True),
            st.integers(-10, 10**25).map(lambda n: Number(str(n))),
            TEXTS,
        )
    if spec.kind == "datetime":
        return st.one_of(VALID_DATETIMES, LEAP_DAYS)
    return st.one_of(TEXTS, WEIRD_TEXTS, st.sampled_from(["student", "teacher", "NORMAL", "A"]))


def invalid_values(spec: Field) -> st.SearchStrategy[Any]:
    if spec.kind in ("bigint", "int"):
        return st.one_of(
            NOT_INTEGERS,
            st.sampled_from(BIGINT_EDGES).map(lambda n: Number(str(n))),
            st.sampled_from(BIGINT_EDGES).map(str),
        )
    if spec.kind == "datetime":
        return NOT_DATETIMES
    if spec.kind == "id":
        return st.one_of(
            st.sampled_from(["4.2", "1e2", "-0.5"]).map(Number),
            st.booleans(),
            st.builds(lambda: Obj([])),
            st.builds(lambda: Arr([])),
            WEIRD_TEXTS,
        )
    return st.one_of(
        st.builds(lambda: Obj([("x", None)])), st.builds(lambda: Arr([])), SCALARS, WEIRD_TEXTS
    )


SPECIAL: dict[str, st.SearchStrategy[Any]] = {
    "targetType": st.sampled_from(["shape", "template", "Shape", "other"]),
    "action": st.sampled_from(["move", "mouse", "add", "audio", "match", "stop"]),
    "subAction": st.sampled_from(
        ["over", "out", "start", "pause", "drop:wrong", "drop:correct", "drag", "Over"]
    ),
    "targetId": st.sampled_from(["match", "pic_1", "Match", ""]),
    "msgId": integers_written(st.sampled_from([305, 305, 305, 201])),
    "msgType": integers_written(st.sampled_from([116, 116, 116, 117])),
    "role": integers_written(st.sampled_from([2, 2, 2, 1])),
}


EVENT_LIKE = st.sampled_from(
    [
        ("pic_1", "shape", "move", "drag"),
        ("pic_2", "shape", "mouse", "over"),
        ("line_1", "shape", "add", "pen"),
        ("audio_1", "template", "audio", "start"),
        ("audio_1", "template", "audio", "pause"),
        ("match", "template", "match", "drop:wrong"),
        ("match", "template", "match", "drop:correct"),
        ("option_2", "template", "match", "drop:correct"),
        ("match", "template", "match", "drop:Correct"),
        ("pic_2", "shape", "mouse", "out"),
        ("audio_1", "Template", "audio", "start"),
        (ABSENT, "shape", "move", ABSENT),
    ]
)


@st.composite
def field_value(draw: st.DrawFn, spec: Field, clean: bool) -> Any:
    """A clean message has every required field valid; others get defects field by field."""
    roll = draw(st.integers(0, 99))
    if clean:
        if spec.required or roll < 85:
            return draw(valid_values(spec))
        return ABSENT if roll < 95 else None
    if roll < 80:
        return draw(valid_values(spec))
    if roll < 86:
        return ABSENT
    if roll < 91:
        return None
    return draw(invalid_values(spec))


# -- messages ------------------------------------------------------------------------------------


@st.composite
def timeline_times(draw: st.DrawFn) -> tuple[Any, Any]:
    """createTime and data.timestamp around the 5-minute skew limit."""
    created = draw(EPOCH)
    skew = draw(
        st.one_of(
            st.sampled_from([-2000, 0, 299_999, 300_000, 300_001, 7_200_000]),
            st.integers(-(10**6), 10**6),
        )
    )
    as_string = draw(st.booleans())

    def write(value: int) -> Any:
        return str(value) if as_string else Number(str(value))

    return write(created), write(created + skew)


def build_tree(values: dict[tuple[str, ...], Any]) -> Obj:
    """Nest path -> value pairs into objects (absent values left out)."""
    root: dict[str, Any] = {}
    for path, value in values.items():
        if value is ABSENT:
            continue
        node = root
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value

    def to_obj(node: dict[str, Any]) -> Obj:
        return Obj(
            [
                (key, to_obj(value) if isinstance(value, dict) else value)
                for key, value in node.items()
            ]
        )

    return to_obj(root)


@st.composite
def message_tree(draw: st.DrawFn, topic: str) -> Obj:
    fields = TOPICS[topic]
    clean = draw(st.integers(0, 9)) < 5
    values = {spec.path: draw(field_value(spec, clean)) for spec in fields}
    if topic == "timeline_client_topic":
        if draw(st.integers(0, 9)) < 8:
            created, client = draw(timeline_times())
            values[("createTime",)], values[("data", "timestamp")] = created, client
        if draw(st.integers(0, 9)) < 6:  # an event's attributes, or a near miss
            for key, value in zip(
                ("target_id", "target_type", "action", "sub_action"), draw(EVENT_LIKE), strict=True
            ):
                values[("data", "msg", "msg_data", key)] = value
    tree = build_tree(values)
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    mess_up(tree, rng, draw)
    return tree


def mess_up(obj: Obj, rng: random.Random, draw: st.DrawFn, depth: int = 0) -> None:
    """Unknown keys, repeated keys, a nested object replaced by null or a scalar, key order."""
    for index, (key, value) in enumerate(list(obj.pairs)):
        if isinstance(value, Obj):
            if rng.random() < 0.04:
                obj.pairs[index] = (key, rng.choice([None, "x", Arr([]), Number("1")]))
            else:
                mess_up(value, rng, draw, depth + 1)
    if rng.random() < 0.3:
        unknown = draw(st.sampled_from(["extra", "UserId", "userid ", "meta", "", "é", "data2"]))
        obj.pairs.append((unknown, draw(JSON_VALUES)))
    if obj.pairs and rng.random() < 0.08:  # a repeated key: the last occurrence counts
        key, _ = rng.choice(obj.pairs)
        decoy = draw(JSON_VALUES)
        obj.pairs.insert(rng.randrange(len(obj.pairs) + 1), (key, decoy))
    rng.shuffle(obj.pairs)


# -- writing JSON in random layouts ------------------------------------------------------------

SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
    "/": "\\/",
}


def write_string(text: str, rng: random.Random) -> str:
    out = ['"']
    escape_all = rng.random() < 0.02
    for char in text:
        code = ord(char)
        if code > 0xFFFF:
            if escape_all or rng.random() < 0.2:
                high, low = divmod(code - 0x10000, 0x400)
                out.append(f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04X}")
            else:
                out.append(char)
        elif 0xD800 <= code <= 0xDFFF or code < 0x20 or char in '"\\':
            if char in SHORT_ESCAPES and rng.random() < 0.7:
                out.append(SHORT_ESCAPES[char])
            else:
                out.append(f"\\u{code:04x}")
        elif escape_all or rng.random() < 0.02:
            out.append(SHORT_ESCAPES.get(char) if char == "/" else f"\\u{code:04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def space(rng: random.Random) -> str:
    if rng.random() < 0.75:
        return ""
    return "".join(rng.choice(" \t\r ") for _ in range(rng.randint(1, 3)))


def write_json(value: Any, rng: random.Random) -> str:
    if isinstance(value, Obj):
        if not value.pairs:
            return "{" + space(rng) + "}"
        members = [
            space(rng)
            + write_string(key, rng)
            + space(rng)
            + ":"
            + space(rng)
            + write_json(item, rng)
            + space(rng)
            for key, item in value.pairs
        ]
        return "{" + ",".join(members) + "}"
    if isinstance(value, Arr):
        if not value.items:
            return "[" + space(rng) + "]"
        return (
            "["
            + ",".join(space(rng) + write_json(item, rng) + space(rng) for item in value.items)
            + "]"
        )
    if isinstance(value, Number):
        return str(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return write_string(value, rng)


BREAKS = ["truncate", "trailing", "leading", "replace", "single_quotes", "not_object", "text"]
TRAILING = [" x", "{}", "}", " 1", "]", ",", ' {"a":1}', "\x00", "null", " /*c*/"]
NOT_OBJECTS = [
    "",
    "   ",
    "[1,2,3]",
    "42",
    '"text"',
    "null",
    "true",
    "[]",
    "<html>502</html>",
    "{'a': 1}",
    "\ufeff{}",
    "{} {}",
    "{}}",
]


@st.composite
def message_line(draw: st.DrawFn, topic: str) -> str:
    """One line of a topic file (no LF; maybe a CR at the end, as a CRLF line end)."""
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    text = space(rng) + write_json(draw(message_tree(topic)), rng) + space(rng)
    if rng.random() < 0.12:
        kind = rng.choice(BREAKS)
        if kind == "truncate":
            text = text[: rng.randrange(len(text))]
        elif kind == "trailing":
            text += rng.choice(TRAILING)
        elif kind == "leading":
            text = rng.choice(["x", "[", "\ufeff", ",", "{"]) + text
        elif kind == "replace":
            at = rng.randrange(len(text))
            text = text[:at] + rng.choice('{}[]:,"\\ x0') + text[at + 1 :]
        elif kind == "single_quotes":
            text = text.replace('"', "'")
        elif kind == "not_object":
            text = rng.choice(NOT_OBJECTS)
        else:
            text = draw(TEXTS)
    text = text.replace("\n", " ")
    if rng.random() < 0.15:
        text += "\r"
    return text


def sample_lines(topic: str, count: int) -> list[str]:
    """``count`` lines drawn by Hypothesis (one example each; the test runs Flink once on all)."""
    from hypothesis import HealthCheck, Phase, given, settings

    lines: list[str] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(message_line(topic))
    def collect(line: str) -> None:
        lines.append(line)

    collect()
    return lines
