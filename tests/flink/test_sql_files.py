"""The Flink SQL files read by Flink's parser (no job run): layout, jobs, stages, ${VAR}s."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from classpulse.config import load_settings
from classpulse.flink.runner import load_catalog, render_environment
from classpulse.flink.sqlfiles import (
    JOBS_DIR,
    TEMPLATES_DIR,
    SqlFileError,
    discover_jobs,
    expand_templates,
    plan_stages,
    split_statements,
    strip_comments,
)
from classpulse.flink.variables import (
    MissingVariableError,
    parse_assignments,
    render,
    resolve_variables,
)

ROOT = load_settings().root
KAFKA_VARIABLES = {"KAFKA_BOOTSTRAP_SERVERS": "broker-1:9092,broker-2:9092"}
_COLUMN = re.compile(r"^\s*`?(\w+)`?\s+(AS\b|[A-Z_]+(?:\(\d+\))?)", re.M | re.I)
CONNECTOR_HELPERS = {"kafka_partition"}  # read only to build source_split


def logical_columns(ddl: str) -> dict[str, str]:
    """Columns the jobs see: name -> type (physical) or 'derived' (metadata, computed)."""
    body = re.split(r"\)\s*WITH\b", strip_comments(ddl).split("(", 1)[1], flags=re.I)[0]
    body = re.sub(r"\n\s+METADATA", " METADATA", body, flags=re.I)
    columns = {}
    for line in body.splitlines():
        match = _COLUMN.match(line)
        if match is None or match.group(1).upper() == "WATERMARK":
            continue
        if match.group(1) in CONNECTOR_HELPERS:
            continue
        derived = match.group(2).upper() == "AS" or "METADATA" in line.upper()
        columns[match.group(1)] = "derived" if derived else match.group(2).upper()
    return columns


def test_split_statements_respects_quotes_and_comments() -> None:
    text = "-- a; comment\nSELECT ';' AS a, 'it''s; fine';\n/* x; */ INSERT INTO t VALUES (1);\n;"
    statements = split_statements(text)
    assert len(statements) == 2
    assert statements[0].endswith("'it''s; fine'")
    assert strip_comments(statements[1]).strip() == "INSERT INTO t VALUES (1)"


def test_every_job_parses_and_names_tables_only() -> None:
    catalog = load_catalog(ROOT, "kafka")
    assert len(catalog.jobs) >= 12
    for job in catalog.jobs:
        text = job.path.read_text(encoding="utf-8")
        assert "'connector'" not in text, f"{job.name}: connector options belong in connectors/"
        header = text.splitlines()[:4]
        assert all(line.startswith("--") for line in header[:2]), f"{job.name}: header comment"
        assert job.outputs, job.name


def test_cleaning_runs_before_the_marts() -> None:
    stages = plan_stages(load_catalog(ROOT, "kafka").jobs)
    kinds = [{job.name.split("_")[0] for job in stage} for stage in stages]
    # marts reading other marts (triage reads the labels) run in later stages of a bounded run
    assert kinds[0] == {"clean"} and all(kind == {"mart"} for kind in kinds[1:])
    assert len(stages[0]) >= 7 and len(stages[1]) >= 5


def test_every_connector_is_kafka_and_every_table_names_its_columns() -> None:
    """Every table is a Kafka topic, except the dimension lookups (contract C), which read the
    warehouse through the classpulse-warehouse lookup connector."""
    assert not (ROOT / "flink_sql" / "connectors" / "local").exists()  # topic files: import only
    lookups = set()
    for table in load_catalog(ROOT, "kafka").tables:
        ddl = strip_comments(table.ddl)
        if "'connector' = 'classpulse-warehouse'" in ddl:
            lookups.add(table.name)
        else:
            assert "'connector' = 'kafka'" in ddl, table.name
        assert logical_columns(table.ddl), table.name
    assert lookups == {"dim_live_room", "dim_room_membership"}


def test_sources_read_the_raw_line_and_where_it_came_from() -> None:
    tables = {table.name: table for table in load_catalog(ROOT, "kafka").tables}
    for name in ("timeline_client_topic", "agora_record", "qos_log", "uc_account_student"):
        ddl = tables[name].ddl
        assert "'value.format' = 'raw'" in ddl and "METADATA FROM 'partition'" in ddl, name
        assert "METADATA FROM 'offset'" in ddl, name
        assert re.search(r"processed_at\s+AS PROCTIME\(\)", ddl), name


def test_watermarks_only_on_cleaned_topics() -> None:
    watermarked = {t.name for t in load_catalog(ROOT, "kafka").tables if t.has_watermark}
    assert {"timeline_analysis_student", "agora_record_clean", "qos_log_clean"} <= watermarked
    assert all(
        name == "timeline_analysis_student" or name.endswith("_clean") for name in watermarked
    )


def test_kafka_ddl_renders_with_every_variable_set() -> None:
    text = render_environment(load_settings(), "kafka", KAFKA_VARIABLES)
    assert "${" not in text
    # every table is a Kafka topic but the dimension lookups (connector classpulse-warehouse)
    catalog = load_catalog(ROOT, "kafka").tables
    lookups = [t.name for t in catalog if "'connector' = 'classpulse-warehouse'" in t.ddl]
    assert sorted(lookups) == ["dim_live_room", "dim_room_membership"]
    tables = len(catalog) - len(lookups)
    assert text.count("'properties.bootstrap.servers' = 'broker-1:9092,broker-2:9092'") == tables
    assert "'topic' = 'uc_account-student'" in text


def test_a_missing_variable_fails_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    with pytest.raises(MissingVariableError) as raised:
        render_environment(load_settings(), "kafka", {})
    assert raised.value.names == ["KAFKA_BOOTSTRAP_SERVERS"]
    assert "${KAFKA_BOOTSTRAP_SERVERS}" in str(raised.value)
    assert "CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS" in str(raised.value)


def test_render_is_strict_and_never_empty() -> None:
    variables = resolve_variables({"A": ""}, environ={"CLASSPULSE_B": "from-env"})
    assert render("x=${A} y=${B}", variables, "here") == "x= y=from-env"
    with pytest.raises(MissingVariableError, match=r"here: no value for \$\{C\}"):
        render("${C}", variables, "here")
    with pytest.raises(ValueError, match="malformed"):
        render("${lower}", variables, "here")
    assert render("${WATERMARK_DELAY_SECONDS}", variables, "here") == "10"
    assert parse_assignments(["KAFKA_GROUP_ID=a=b"]) == {"KAFKA_GROUP_ID": "a=b"}
    with pytest.raises(ValueError):
        parse_assignments(["lower=1"])


def test_a_new_job_file_is_discovered_without_code_changes(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "flink_sql", tmp_path / "flink_sql")
    (tmp_path / JOBS_DIR / "mart_rejections_per_topic.sql").write_text(
        "-- Rejected messages per topic and reason (example of a new metric).\n"
        "-- Grain: topic x reason.\n"
        "CREATE TEMPORARY VIEW rejection_counts AS\n"
        "SELECT topic, reason, COUNT(*) AS n FROM rejected_messages GROUP BY topic, reason;\n"
        "INSERT INTO mart_accounting\n"
        "SELECT CONCAT(topic, '/', reason), CURRENT_TIMESTAMP, n, n, 0, CURRENT_TIMESTAMP\n"
        "FROM TO_CHANGELOG(input => TABLE rejection_counts) WHERE op <> 'UPDATE_BEFORE';\n",
        encoding="utf-8",
    )
    catalog = load_catalog(tmp_path, "kafka")
    job = next(job for job in catalog.jobs if job.name == "mart_rejections_per_topic")
    assert job.inputs == {"rejected_messages"}
    assert job in plan_stages(catalog.jobs)[1]


def test_a_template_stands_for_its_statements_with_the_arguments_given(tmp_path: Path) -> None:
    (tmp_path / TEMPLATES_DIR).mkdir(parents=True)
    (tmp_path / TEMPLATES_DIR / "route.sql").write_text(
        "-- routes\ncreate temporary view {view} as select * from {source} where {rule:true};\n"
        "insert into y select * from {view};\n",
        encoding="utf-8",
    )

    def applied(arguments: str) -> list[str]:
        statements = [f"apply template route ({arguments})", "insert into y select 1"]
        return [strip_comments(s).strip() for s in expand_templates(statements, tmp_path, "job")]

    assert applied("view = 'v', source = 'x'") == [
        "create temporary view v as select * from x where true",
        "insert into y select * from v",
        "insert into y select 1",
    ]
    # a quote is doubled in '...', as it is in $$...$$
    assert applied("view = 'v', source = 'x', rule = 'a = ''b'''")[0].endswith("where a = 'b'")
    assert applied("view = 'v', source = 'x', rule = $$a = 'b'$$")[0].endswith("where a = 'b'")
    with pytest.raises(SqlFileError, match="needs argument 'source'"):
        applied("view = 'v'")
    with pytest.raises(SqlFileError, match=r"takes no argument\(s\) \['other'\]"):
        applied("view = 'v', source = 'x', other = 'y'")
    with pytest.raises(SqlFileError, match="no template 'missing'"):
        expand_templates(["apply template missing (a = 'b')"], tmp_path, "job")


def test_job_files_reject_connector_statements(tmp_path: Path) -> None:
    (tmp_path / JOBS_DIR).mkdir(parents=True)
    (tmp_path / JOBS_DIR / "bad.sql").write_text(
        "-- bad\nCREATE TABLE x (a INT) WITH ('connector' = 'datagen');\nINSERT INTO y SELECT 1;\n"
    )
    with pytest.raises(SqlFileError, match="only CREATE TEMPORARY VIEW and INSERT INTO"):
        discover_jobs(tmp_path, ["y"])


# -- parse_message: the one parsing step of every cleaning job ---------------------------------


def test_every_cleaning_job_parses_once_with_parse_message() -> None:
    cleaning = [job for job in load_catalog(ROOT, "kafka").jobs if job.name.startswith("clean_")]
    assert len(cleaning) == 14
    for job in cleaning:
        # the job's statements, templates applied (flink_sql/templates)
        text = ";\n".join(statement for _, statement in job.views + job.inserts)
        code = strip_comments(text, strings=True).upper()
        assert code.count("PARSE_MESSAGE(") == 1, job.name
        for lenient in ("JSON_VALUE", "JSON_QUERY", "IS JSON", "REGEXP"):
            assert lenient not in code, f"{job.name} still uses {lenient}"


def test_the_functions_the_jobs_call_are_declared() -> None:
    from classpulse.flink.functions import function_statements

    statements = function_statements(ROOT)
    assert statements == [
        "create temporary system function if not exists parse_message\n"
        "    as 'io.classpulse.udf.ParseMessage' language JAVA",
        "create temporary system function if not exists max_overlap\n"
        "    as 'io.classpulse.udf.MaxOverlap' language JAVA",
        "create temporary system function if not exists presence_tracker\n"
        "    as 'io.classpulse.udf.PresenceTracker' language JAVA",
        "create temporary system function if not exists latest_value\n"
        "    as 'io.classpulse.udf.Latest' language JAVA",
    ]
    for name in ("ParseMessage", "MaxOverlap", "PresenceTracker", "Latest"):
        assert (ROOT / f"jvm/udf/src/main/java/io/classpulse/udf/{name}.java").is_file()


def test_a_missing_functions_jar_says_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from classpulse.flink.functions import UDF_JAR_VARIABLE, MissingUdfJarError, udf_jar

    monkeypatch.setenv(UDF_JAR_VARIABLE, str(tmp_path / "nowhere.jar"))
    with pytest.raises(MissingUdfJarError, match="make udf"):
        udf_jar()
    built = tmp_path / "built.jar"
    built.write_bytes(b"PK")
    monkeypatch.setenv(UDF_JAR_VARIABLE, str(built))
    assert udf_jar() == built.resolve()


def test_the_dimension_lookups_are_no_topics_of_the_pipeline() -> None:
    from classpulse.flink.pipeline import pipeline_topics

    sources, middle, outputs = pipeline_topics(load_settings())
    topics = {*sources, *middle, *outputs}
    assert not topics & {"dim_live_room", "dim_room_membership"}  # warehouse lookups
    assert "classroom_help_request" in sources and "help_request_triage" in outputs
