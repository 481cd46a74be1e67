"""The streamed rooms day (classpulse.rooms.streamed) against the one-shot generator."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from classpulse.rooms.generator import RoomsOptions, generate_rooms_day
from classpulse.rooms.streamed import stream_rooms_lines


def test_streamed_lines_equal_the_one_shot_day_line_by_line(tmp_path: Path) -> None:
    # late heartbeats, corrupted copies and several rooms; runs of 97 records, so the merge
    # spans dozens of runs and ties on server_time fall across them
    options = RoomsOptions(start=date(2026, 12, 1), scale=0.001, rooms=4, late_share=0.01)
    day = generate_rooms_day(options)
    expected = [(topic, line) for topic, lines in day.lines.items() for _, line in lines]

    streamed = list(stream_rooms_lines(options, tmp_path, chunk_records=97))

    assert day.late_heartbeats and all(day.rejected[topic] for topic in day.lines)
    assert len(list(tmp_path.iterdir())) > 20  # really spilled in many runs
    assert len(streamed) == len(expected)
    assert streamed == expected
