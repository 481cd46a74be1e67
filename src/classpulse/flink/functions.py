"""The Java functions Flink SQL calls: the jar built from ``jvm/udf`` and their registration.

``make udf`` builds ``jvm/udf`` with Maven into ``.cache/jvm/udf/classpulse-udf.jar`` (from
source, nothing binary in the repository). Every :class:`~classpulse.flink.session.FlinkSession`
puts that jar in ``pipeline.jars`` (the local mini-cluster loads it; a remote cluster receives it
with each job) and runs the ``CREATE TEMPORARY SYSTEM FUNCTION`` statements of
``flink_sql/functions.sql``. ``CLASSPULSE_FLINK_UDF_JAR`` points at a jar built elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from classpulse.config import project_root
from classpulse.flink.sqlfiles import split_statements, strip_comments

UDF_JAR_VARIABLE = "CLASSPULSE_FLINK_UDF_JAR"
UDF_JAR = Path(".cache") / "jvm" / "udf" / "classpulse-udf.jar"
FUNCTIONS_FILE = Path("flink_sql") / "functions.sql"


class MissingUdfJarError(RuntimeError):
    """The jar of jvm/udf has not been built."""


def udf_jar(root: Path | None = None) -> Path:
    """The built jar of ``jvm/udf``; a clear error when it is missing."""
    configured = os.environ.get(UDF_JAR_VARIABLE, "").strip()
    jar = Path(configured) if configured else (root or project_root()) / UDF_JAR
    if not jar.is_file():
        raise MissingUdfJarError(
            f"the Flink SQL functions jar {jar} is missing: build it with `make udf` "
            "(Maven and a JDK 11+ from source in jvm/udf; Debian: apt-get install maven "
            f"openjdk-17-jdk-headless), or set {UDF_JAR_VARIABLE} to a built jar"
        )
    return jar.resolve()


def function_statements(root: Path | None = None) -> list[str]:
    """The CREATE FUNCTION statements of ``flink_sql/functions.sql``, in file order."""
    text = ((root or project_root()) / FUNCTIONS_FILE).read_text("utf-8")
    return [strip_comments(statement).strip() for statement in split_statements(text)]


def register_functions(table_env: Any, root: Path | None = None) -> None:
    for statement in function_statements(root):
        table_env.execute_sql(statement)
