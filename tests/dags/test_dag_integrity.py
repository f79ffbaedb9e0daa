"""Every DAG imports without errors, with the expected tasks, wiring, tags and retries; a bad
source file is an import error that names the file and the key (what the Airflow UI shows)."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pendulum
import pytest

from news_etl import PROJECT_DIR
from news_etl.sources import DEFAULT_SOURCES_DIR

DAGS_DIR = PROJECT_DIR / "dags"


@pytest.fixture
def dagbag_of(monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    def load(sources_dir=DEFAULT_SOURCES_DIR):
        monkeypatch.setenv("NEWS_ETL_SOURCES", str(sources_dir))
        return DagBag(dag_folder=DAGS_DIR)

    return load


def test_dags_import_with_expected_ids_tags_retries_and_timeouts(dagbag_of, monkeypatch):
    for name in ("NEWS_ETL_TASK_TIMEOUT_MINUTES", "NEWS_ETL_DAILY_RUN_TIMEOUT_MINUTES",
                 "NEWS_ETL_DIGEST_RUN_TIMEOUT_MINUTES"):
        monkeypatch.delenv(name, raising=False)
    bag = dagbag_of()
    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == ["news_daily", "news_digest"]
    run_timeouts = {"news_daily": timedelta(hours=6), "news_digest": timedelta(hours=1)}
    for dag in bag.dags.values():
        assert dag.tags, dag.dag_id
        assert dag.dagrun_timeout == run_timeouts[dag.dag_id]
        for task in dag.tasks:
            assert task.retries >= 1, task.task_id
            assert task.execution_timeout == timedelta(hours=1), task.task_id


def test_timeouts_come_from_the_environment(dagbag_of, monkeypatch):
    monkeypatch.setenv("NEWS_ETL_TASK_TIMEOUT_MINUTES", "7")
    monkeypatch.setenv("NEWS_ETL_DAILY_RUN_TIMEOUT_MINUTES", "90")
    monkeypatch.setenv("NEWS_ETL_DIGEST_RUN_TIMEOUT_MINUTES", "15")
    bag = dagbag_of()
    assert bag.import_errors == {}
    assert {d.dag_id: d.dagrun_timeout for d in bag.dags.values()} == {
        "news_daily": timedelta(minutes=90), "news_digest": timedelta(minutes=15)}
    assert {t.execution_timeout for d in bag.dags.values() for t in d.tasks} == {timedelta(minutes=7)}


@pytest.mark.parametrize("raw, problem", [("0", "a timeout must be at least 1 minute"), ("1.5", "expected a whole number"),
                                          ("forever", "expected a whole number")])
def test_a_bad_timeout_is_an_import_error_naming_the_setting(dagbag_of, monkeypatch, raw, problem):
    monkeypatch.setenv("NEWS_ETL_TASK_TIMEOUT_MINUTES", raw)
    bag = dagbag_of()
    assert sorted(bag.dag_ids) == [] and len(bag.import_errors) == 2
    for error in bag.import_errors.values():
        assert f"environment variable NEWS_ETL_TASK_TIMEOUT_MINUTES={raw!r}: {problem}" in error


def test_news_daily_wiring(dagbag_of):
    dag = dagbag_of().dags["news_daily"]
    upstream = {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}
    assert upstream == {
        "plan": [],
        "source.extract": ["plan"],
        "source.transform": ["source.extract"],
        "source.check": ["source.transform"],
        "source.load": ["source.check"],
        "summary": ["source.load"],
    }
    assert dag.get_task("summary").trigger_rule == "all_done"
    assert [a.name for a in dag.get_task("summary").outlets] == ["news.articles"]
    assert set(dag.params) == {"date", "refetch", "reprocess"}
    assert dag.default_args["on_failure_callback"] is not None
    # Real one-day intervals (not the zero-width intervals of Airflow 3's @daily preset).
    interval = dag.timetable.infer_manual_data_interval(run_after=pendulum.datetime(2024, 3, 2, tz="UTC"))
    assert (interval.end - interval.start).total_seconds() == 86400


def test_news_digest_is_scheduled_on_the_articles_asset(dagbag_of):
    digest = dagbag_of().dags["news_digest"]
    assert [a.name for a in digest.timetable.asset_condition.objects] == ["news.articles"]
    assert [t.task_id for t in digest.tasks] == ["digest"]


def test_bad_source_file_is_an_import_error_naming_file_and_key(dagbag_of, tmp_path):
    sources = tmp_path / "sources"
    shutil.copytree(DEFAULT_SOURCES_DIR, sources)
    bad = sources / "tehran-wire.yaml"
    bad.write_text(bad.read_text().replace("timezone: Asia/Tehran", "timezone: Asia/Tehrn"))
    bag = dagbag_of(sources)
    assert "news_daily" not in bag.dag_ids
    (error,) = bag.import_errors.values()
    assert f"{bad}: key 'timezone': 'Asia/Tehrn' is not an IANA time zone" in error


def test_bad_suite_file_is_an_import_error_naming_file_and_key(dagbag_of, tmp_path, monkeypatch):
    from news_etl.suites import DEFAULT_SUITES_DIR

    suites = tmp_path / "expectations"
    shutil.copytree(DEFAULT_SUITES_DIR, suites)
    bad = suites / "sources" / "tehran-wire.yaml"
    bad.write_text("thresholds: {max_failed_ratio: 5}\n")
    monkeypatch.setenv("NEWS_ETL_SUITES", str(suites))
    bag = dagbag_of()
    (error,) = bag.import_errors.values()
    assert f"{bad}: key 'thresholds.max_failed_ratio': expected a number from 0 to 1" in error
