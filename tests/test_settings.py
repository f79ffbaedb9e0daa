"""Settings: the environment first, then Airflow Variables (`news_etl_<name>`) inside Airflow;
the DAG files' settings (DagSettings, read at parse time) from the environment only.

Inside Airflow is simulated the way Airflow's Task SDK sees it: a supervisor channel in
`task_runner.SUPERVISOR_COMMS` that answers GetVariable with the Variable or "not found". The
round trip through a real api-server and Celery worker is in tests/e2e/test_celery_executor.py.
"""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import ErrorType
from airflow.sdk.execution_time import task_runner
from airflow.sdk.execution_time.comms import ErrorResponse, GetVariable, VariableResult

from news_etl.errors import ConfigError
from news_etl.orchestration import DagSettings
from news_etl.settings import Settings, lookup
from news_etl.sources import sources_dir


class FakeSupervisor:
    """Answers the task process's GetVariable requests from a dict, as the supervisor does."""

    def __init__(self, variables: dict[str, str]):
        self.variables = variables
        self.asked: list[str] = []

    def send(self, msg):
        assert isinstance(msg, GetVariable), msg
        self.asked.append(msg.key)
        if msg.key in self.variables:
            return VariableResult(key=msg.key, value=self.variables[msg.key])
        return ErrorResponse(error=ErrorType.VARIABLE_NOT_FOUND, detail={"message": f"Variable {msg.key} not found"})


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("NEWS_ETL_ARCHIVE", "NEWS_ETL_LOOKBACK_DAYS", "NEWS_ETL_SOURCES", "NEWS_ETL_SCHEDULE",
                 "NEWS_ETL_SCHEDULE_TIMEZONE", "NEWS_ETL_TASK_RETRIES", "NEWS_ETL_WEBHOOK_URL", "NEWS_ETL_STATE_DIR",
                 "AIRFLOW_VAR_NEWS_ETL_ARCHIVE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def inside_airflow(clean_env):
    def enter(variables: dict[str, str]) -> FakeSupervisor:
        supervisor = FakeSupervisor(variables)
        clean_env.setattr(task_runner, "SUPERVISOR_COMMS", supervisor, raising=False)
        return supervisor

    return enter


VARIABLES = {"news_etl_archive": "s3://news-bucket/archive", "news_etl_lookback_days": "3",
             "news_etl_sources": "/srv/sources", "news_etl_schedule": "30 2 * * *",
             "news_etl_schedule_timezone": "Europe/Berlin", "news_etl_task_retries": "5",
             "news_etl_webhook_url": "http://alerts.example/hook"}


def read_all() -> dict[str, object]:
    settings, dag = Settings.from_env(), DagSettings.from_env()
    return {"archive": settings.archive_root, "lookback": settings.lookback_days, "sources": str(sources_dir()),
            "schedule": dag.schedule, "timezone": dag.timezone, "retries": dag.retries,
            "webhook": lookup("NEWS_ETL_WEBHOOK_URL")}


def test_inside_airflow_unset_settings_come_from_variables(inside_airflow):
    supervisor = inside_airflow(VARIABLES)
    assert read_all() == {"archive": "s3://news-bucket/archive", "lookback": 3, "sources": "/srv/sources",
                          "schedule": "0 0 * * *", "timezone": "UTC", "retries": 2,
                          "webhook": "http://alerts.example/hook"}
    assert "news_etl_archive" in supervisor.asked


def test_the_dag_files_settings_ask_for_no_variable(inside_airflow):
    """Read when a DAG file is parsed: a Variable there would be a metadata query on every parse."""
    supervisor = inside_airflow(VARIABLES)
    DagSettings.from_env()
    assert supervisor.asked == []


def test_the_environment_wins_over_a_variable(inside_airflow, clean_env):
    inside_airflow(VARIABLES)
    clean_env.setenv("NEWS_ETL_ARCHIVE", "/data/archive")
    clean_env.setenv("NEWS_ETL_SCHEDULE", "0 6 * * *")
    values = read_all()
    assert (values["archive"], values["schedule"], values["lookback"]) == ("/data/archive", "0 6 * * *", 3)


def test_airflows_own_variable_sources_count_too(inside_airflow, clean_env):
    # Variable.get asks the secrets backends first: AIRFLOW_VAR_<KEY> in the environment is one.
    inside_airflow({})
    clean_env.setenv("AIRFLOW_VAR_NEWS_ETL_ARCHIVE", "gs://other/archive")
    assert Settings.from_env().archive_root == "gs://other/archive"


def test_outside_airflow_only_the_environment_counts(clean_env):
    clean_env.setattr(task_runner, "SUPERVISOR_COMMS", None, raising=False)
    clean_env.setenv("NEWS_ETL_STATE_DIR", "/tmp/state")
    values = read_all()
    assert (values["archive"], values["lookback"], values["schedule"], values["webhook"]) == (
        "/tmp/state/archive", 1, "0 0 * * *", None)


def test_a_bad_variable_is_named_in_the_error(inside_airflow):
    inside_airflow({"news_etl_lookback_days": "three"})
    with pytest.raises(ConfigError, match="Airflow Variable news_etl_lookback_days='three': expected a number"):
        read_all()


def test_a_bad_dag_setting_names_the_environment_variable(clean_env):
    clean_env.setenv("NEWS_ETL_TASK_RETRIES", "-1")
    with pytest.raises(ConfigError, match="environment variable NEWS_ETL_TASK_RETRIES='-1': expected a whole number"):
        DagSettings.from_env()
