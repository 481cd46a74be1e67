"""Arrival-order replay of an intermediate topic for a bounded run.

The windowed marts read the cleaned topics with an event-time watermark, and which events are
late depends on the order they are read in. On Kafka a partition keeps arrival order. A local
topic directory does not: Flink's file source hands its files to readers in hash order, and the
cleaning job wrote one part file per subtask and checkpoint. So, between the waves of a bounded
run, each watermarked intermediate topic is rewritten as one file in arrival order: by source
split (the source topic file, whose name order is arrival order), then by position. Every cleaned
row starts with its source split, and a subtask writes the rows of one source file contiguously
and in order (the sink is chained to the reader), so blocks of lines are moved, never re-parsed.

The replay file goes to a staging directory; the topic directory itself is left as written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

_PART = re.compile(r"-(\d+)-(\d+)(?:\.[^.]*)?$")


@dataclass(frozen=True)
class ReplayFile:
    topic: str
    path: Path
    lines: int
    splits: int


def part_file_order(path: Path) -> tuple[int, int, str]:
    """Flink names part files ``part-<uuid>-<subtask>-<count>``: order by subtask, then count."""
    match = _PART.search(path.name)
    if match is None:
        return (1 << 30, 0, path.name)
    return (int(match.group(1)), int(match.group(2)), path.name)


def first_field(line: bytes) -> str:
    """The value of the first JSON field of a line (the source split), without a JSON parse."""
    start = line.find(b'":"')
    if start < 0 or line[:1] != b"{":
        return str(json.loads(line).get("source_split", ""))
    start += 3
    end = line.find(b'"', start)
    if end < 0 or b"\\" in line[start:end]:
        value = next(iter(json.loads(line).values()))
        return "" if value is None else str(value)
    return line[start:end].decode("utf-8")


def write_replay(topic_dir: Path, staging_dir: Path) -> ReplayFile:
    """Rewrite the complete files of ``topic_dir`` into ``staging_dir/replay.jsonl``."""
    files = sorted(
        (p for p in topic_dir.iterdir() if p.is_file() and not p.name.startswith((".", "_"))),
        key=part_file_order,
    )
    blocks: list[tuple[str, int, bytes]] = []  # (split, sequence, lines)
    for path in files:
        data = path.read_bytes()
        position = 0
        while position < len(data):
            line_end = data.find(b"\n", position)
            line_end = len(data) if line_end < 0 else line_end
            if line_end == position:  # empty line
                position += 1
                continue
            split = first_field(data[position:line_end].rstrip(b"\r"))
            # the block ends at the first line that does not start like this one (a C-level scan)
            prefix = data[position : data.find(b'",', position) + 2]
            boundary = re.compile(b"\n(?!" + re.escape(prefix) + b")").search(data, position)
            block_end = len(data) if boundary is None else boundary.start() + 1
            blocks.append((split, len(blocks), data[position:block_end]))
            position = block_end
    blocks.sort(key=lambda block: (block[0], block[1]))
    staging_dir.mkdir(parents=True, exist_ok=True)
    target = staging_dir / "replay.jsonl"
    lines = 0
    with open(target, "wb") as handle:
        for _, _, chunk in blocks:
            if not chunk.endswith(b"\n"):
                chunk += b"\n"
            handle.write(chunk)
            lines += chunk.count(b"\n")
    return ReplayFile(topic_dir.name, target, lines, len({block[0] for block in blocks}))
