"""The scratch engine's answers are kept on disk: a later process asking the same question about
the same text gets the answer without starting an engine."""

from __future__ import annotations

import json
import subprocess
import sys

from classpulse.config import project_root
from classpulse.warehouse.scratch import CACHE_DIR, split_statements

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
