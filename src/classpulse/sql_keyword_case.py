"""Keyword case where sqlfluff's parser gives up: check or fix the keywords of unparsable parts.

sqlfluff's rule CP01 only sees keywords in the parts of a file its dialect's grammar parses.
Flink SQL has syntax the flink dialect lacks (``LATERAL TABLE(...)``, ``TO_CHANGELOG(input =>
...)``, ``METADATA FROM`` columns, ``CREATE TEMPORARY SYSTEM FUNCTION``), and the clickhouse
dialect misses a few engine clauses; those parts stay "unparsable" and CP01 skips them. This
check covers them on the lexer level, with sqlfluff's own lexer and templater and the file's
dialect (from the ``.sqlfluff`` files that apply to it): a ``word`` token inside an unparsable
segment is a keyword when the dialect lists it as reserved, or as unreserved and it is not
called like a function (``word(``: function names are CP03's business, left as written), and
it is written in one case: a mixed-case word (``String``, ``DateTime64``) is a case-sensitive
ClickHouse name, never a keyword as written. Only words of the file's own text are touched
(never what a placeholder expanded to).

A Flink string literal has no backslash escapes ('\\' is one backslash), but sqlfluff's lexer
reads ``\\'`` as an escaped quote and runs the literal on: every word after it would be seen
on the wrong side of a quote. Such a file is refused (``MisreadLiteral``), never recased.

Usage: ``python -m classpulse.sql_keyword_case check|fix PATH...`` (files or folders of .sql).
The case is the one ``capitalisation.keywords`` asks for in the file's configuration.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlfluff.core import FluffConfig, Linter
from sqlfluff.core.parser.segments import BaseSegment


@dataclass(frozen=True)
class Finding:
    """One keyword of an unparsable part written in the wrong case."""

    path: Path
    line: int
    column: int
    start: int  # offset in the file's text
    written: str
    wanted: str


class MisreadLiteral(ValueError):
    """sqlfluff's lexer took a backslash for an escape in a dialect without backslash escapes."""


# Dialects whose string literals know no backslash escapes (only '' stands for a quote).
NO_BACKSLASH_ESCAPES = {"flink"}


def sql_files(paths: Iterable[str]) -> list[Path]:
    """The .sql files named, and those under the folders named, sorted."""
    files: set[Path] = set()
    for name in paths:
        path = Path(name)
        files.update(path.rglob("*.sql") if path.is_dir() else [path])
    return sorted(files)


def _apply_case(word: str, policy: str) -> str:
    if policy == "upper":
        return word.upper()
    if policy == "lower":
        return word.lower()
    raise SystemExit(f"capitalisation_policy {policy!r}: this check knows only upper and lower")


def _next_code(raws: list[BaseSegment], index: int) -> BaseSegment | None:
    for segment in raws[index + 1 :]:
        if segment.is_code:
            return segment
    return None


def _keyword_taken_for_a_name(
    raws: list[BaseSegment], first: BaseSegment | None
) -> BaseSegment | None:
    """The word just before an unparsable part when the parser read it as a name.

    The flink dialect takes ``LATERAL`` of ``LATERAL TABLE(...)`` for a table name and gives
    up on ``TABLE(...)``: the keyword is then a naked identifier just outside the part.
    """
    if first is None:
        return None
    index = next((i for i, raw in enumerate(raws) if raw is first), None)
    for raw in reversed(raws[:index] if index else []):
        if raw.is_code:
            return raw if raw.is_type("naked_identifier") else None
    return None


def find_miscased_keywords(path: Path) -> list[Finding]:
    """The keywords in the unparsable parts of ``path`` whose case differs from the policy."""
    config = FluffConfig.from_path(str(path.parent))
    policy = config.get("capitalisation_policy", ["rules", "capitalisation.keywords"])
    dialect = config.get("dialect_obj")
    reserved = dialect.sets("reserved_keywords")
    unreserved = dialect.sets("unreserved_keywords")
    findings: list[Finding] = []
    for parsed in Linter(config=config).parse_path(str(path)):
        for variant in parsed.parsed_variants:
            tree = variant.tree
            if tree is None:
                continue
            if config.get("dialect") in NO_BACKSLASH_ESCAPES:
                _refuse_backslash_quotes(path, tree)
            all_raws = list(tree.raw_segments)
            for unparsable in tree.recursive_crawl("unparsable"):
                raws = list(unparsable.raw_segments)
                before = _keyword_taken_for_a_name(all_raws, raws[0] if raws else None)
                if before is not None:
                    raws.insert(0, before)
                for index, segment in enumerate(raws):
                    if not segment.is_type("word", "naked_identifier"):
                        continue
                    word = segment.raw
                    upper = word.upper()
                    if word not in (upper, word.lower()):
                        continue
                    following = _next_code(raws, index)
                    called = following is not None and following.raw == "("
                    if upper not in reserved and (upper not in unreserved or called):
                        continue
                    wanted = _apply_case(word, policy)
                    marker = segment.pos_marker
                    if wanted == word or marker is None or not marker.is_literal():
                        continue
                    line, column = marker.source_position()
                    findings.append(
                        Finding(path, line, column, marker.source_slice.start, word, wanted)
                    )
    unique = {finding.start: finding for finding in findings}
    return [unique[start] for start in sorted(unique)]


def misread_literal(segments: Iterable[BaseSegment]) -> BaseSegment | None:
    """The first string literal with a ``\\'`` inside (misread in a dialect without escapes)."""
    for segment in segments:
        if segment.raw.startswith("'") and "\\'" in segment.raw[1:-1]:
            return segment
    return None


def _refuse_backslash_quotes(path: Path, tree: BaseSegment) -> None:
    segment = misread_literal(tree.raw_segments)
    if segment is not None and segment.pos_marker:
        line, column = segment.pos_marker.source_position()
        raise MisreadLiteral(
            f"{path}:{line}:{column}: sqlfluff's lexer reads \\' in a string literal as an "
            "escaped quote, Flink does not: write the literal without a backslash before "
            "its closing quote (LIKE 'DM!_%' ESCAPE '!')"
        )


def fix_file(path: Path, findings: list[Finding]) -> None:
    """Rewrite ``path`` with each finding's keyword in the wanted case."""
    text = path.read_text(encoding="utf-8")
    for finding in sorted(findings, key=lambda item: item.start, reverse=True):
        end = finding.start + len(finding.written)
        if text[finding.start : end] != finding.written:
            raise SystemExit(f"{path}:{finding.line}:{finding.column}: text moved, not fixed")
        text = text[: finding.start] + finding.wanted + text[end:]
    path.write_text(text, encoding="utf-8")


def _run(mode: str, paths: list[Path]) -> Iterator[str]:
    for path in paths:
        findings = find_miscased_keywords(path)
        if mode == "fix" and findings:
            fix_file(path, findings)
            yield f"{path}: {len(findings)} keyword(s) of unparsable parts recased"
        elif mode == "check":
            for finding in findings:
                yield (
                    f"{path}:{finding.line}:{finding.column}: keyword {finding.written!r} "
                    f"in an unparsable part should be {finding.wanted!r}"
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("mode", choices=("check", "fix"))
    parser.add_argument("paths", nargs="+")
    arguments = parser.parse_args(argv)
    try:
        lines = list(_run(arguments.mode, sql_files(arguments.paths)))
    except MisreadLiteral as error:
        print(error, file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return 1 if arguments.mode == "check" and lines else 0


if __name__ == "__main__":
    sys.exit(main())
