"""The scratch engine's answers are kept on disk: a later process asking the same question about
the same text gets the answer without starting an engine."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from classpulse.config import project_root
from classpulse.warehouse.scratch import CACHE_DIR, ScratchTimeout, _ServedEngine, split_statements

# a fresh process whose engine refuses to start: only the disk cache can answer
ASK_WITHOUT_ENGINE = """
import json, sys
from classpulse.warehouse import scratch

def refuse(task, question):
    raise AssertionError("the engine was asked: " + task)

scratch._SERVED.ask = refuse
print(json.dumps(scratch.split_statements(sys.argv[1])))
"""


def run_without_engine(text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ASK_WITHOUT_ENGINE, text],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_a_second_process_reads_the_answer_from_disk() -> None:
    text = "select 'cached; once' as probe;\nselect 2 -- second; statement\n"
    assert split_statements(text) == [
        "select 'cached; once' as probe",
        "select 2 -- second; statement",
    ]
    later = run_without_engine(text)
    assert later.returncode == 0, later.stderr
    assert json.loads(later.stdout) == [
        "select 'cached; once' as probe",
        "select 2 -- second; statement",
    ]
    assert not list((project_root() / CACHE_DIR).glob("*.tmp"))  # written whole, then renamed


def test_a_new_text_is_a_new_question() -> None:
    never_asked = run_without_engine("select 'a text no process asked about before: 8c1f'")
    assert never_asked.returncode != 0
    assert "the engine was asked: tokens" in never_asked.stderr


def test_a_hung_engine_is_killed_and_the_next_question_starts_a_new_one() -> None:
    served = _ServedEngine(reply_timeout=300)  # a child's start (chDB loading) is slow under load
    question = json.dumps(["select 1; select 2"])
    try:
        answered = json.loads(served.ask("tokens", question))
        assert [token[2] for token in answered[0]][:3] == ["BareWord", "Whitespace", "Number"]
        hung = served._child
        os.kill(hung.pid, signal.SIGSTOP)  # a real child that no longer answers
        served.reply_timeout = 2
        with pytest.raises(ScratchTimeout, match=r"gave no answer \(tokens\) within 2 s"):
            served.ask("tokens", question)
        assert hung.poll() == -signal.SIGKILL  # killed, not left behind
        served.reply_timeout = 300
        assert json.loads(served.ask("tokens", question)) == answered  # a new child answers
        assert served._child.pid != hung.pid
    finally:
        served.close()
