"""The landing consumer's per-message work (:mod:`classpulse.kafka.landing`): its hot path.

Every landed message passes through here once, so these are measured, not just written
(docs/architecture.md, "Landing: where its time goes").
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Iterator


def with_provenance(topic: str, partition: int, offsets: list[int], values: list[bytes]) -> bytes:
    """The JSONEachRow block of a batch, each object starting with its (topic, partition, offset).

    One bytes formatting per message: messages written by Flink's JSON format start with
    ``{"``; anything else (whitespace, an empty object, not an object) takes the careful path,
    and a message that is not a JSON object is passed through as it is: the insert rejects it.
    """
    prefix = b'{"kafka_topic":%s,"kafka_partition":%d,"kafka_offset":' % (
        json.dumps(topic).encode(),
        partition,
    )
    framed = prefix + b"%d,%b"
    return b"\n".join(
        [
            framed % (offset, value[1:])
            if value[:2] == b'{"'
            else _with_provenance_slowly(prefix, offset, value)
            for offset, value in zip(offsets, values, strict=True)
        ]
    )


def _with_provenance_slowly(prefix: bytes, offset: int, value: bytes) -> bytes:
    body = value.lstrip()
    if body[:1] != b"{":
        return value
    rest = body[1:].lstrip()
    separator = b"" if rest[:1] == b"}" else b","
    return prefix + str(offset).encode() + separator + rest


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a ``consume()``'s messages are alive. Each message
    is a GC-tracked object, so 50k of them set off collections that walk every tracked object
    of the process: in the benchmark's (PyFlink loaded, ~200k objects) that nearly doubled the
    consumer's CPU. Messages hold no cycles: reference counting frees them once filed, and the
    collector runs again between consumes."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
