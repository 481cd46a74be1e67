"""Why the quality gate could not run: QualityError and the malformed-suite-file report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


class QualityError(Exception):
    """The gate could not run (bad suite file, unreachable warehouse): nothing was judged."""


class SuiteFileError(QualityError):
    """One or more suite files are malformed; ``problems`` maps each file to what is wrong."""

    def __init__(self, problems: Mapping[Path, Sequence[str]]) -> None:
        self.problems = {path: list(items) for path, items in problems.items()}
        lines = []
        for path, items in self.problems.items():
            lines.append(f"{path}:")
            lines.extend(f"  - {item}" for item in items)
        super().__init__("malformed suite file(s):\n" + "\n".join(lines))
