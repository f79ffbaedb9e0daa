"""Every DAG imports without errors, with the expected tasks, wiring, tags, retries and pools; the
DAG files read no source file at parse time (however many there are, broken or not); a bad source
or suite file leaves out its own source, with an error that names the file and the key."""

from __future__ import annotations

import shutil
import sys
from datetime import timedelta

import pendulum
import pytest

from news_etl import PROJECT_DIR, pipeline
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
    assert sorted(bag.dag_ids) == ["news_backfill_archive", "news_daily", "news_digest"]
    run_timeouts = {"news_daily": timedelta(hours=6), "news_digest": timedelta(hours=1),
                    "news_backfill_archive": timedelta(days=7)}
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
        "news_daily": timedelta(minutes=90), "news_digest": timedelta(minutes=15),
        "news_backfill_archive": timedelta(days=7)}
    assert {t.execution_timeout for d in bag.dags.values() for t in d.tasks} == {timedelta(minutes=7)}


@pytest.mark.parametrize("raw, problem", [("0", "a timeout must be at least 1 minute"), ("1.5", "expected a whole number"),
                                          ("forever", "expected a whole number")])
def test_a_bad_timeout_is_an_import_error_naming_the_setting(dagbag_of, monkeypatch, raw, problem):
    monkeypatch.setenv("NEWS_ETL_TASK_TIMEOUT_MINUTES", raw)
    bag = dagbag_of()
    assert sorted(bag.dag_ids) == [] and len(bag.import_errors) == 3
    for error in bag.import_errors.values():
        assert f"environment variable NEWS_ETL_TASK_TIMEOUT_MINUTES={raw!r}: {problem}" in error


def test_news_daily_wiring(dagbag_of):
    dag = dagbag_of().dags["news_daily"]
    upstream = {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}
    assert upstream == {
        "plan": [],
        "shard.extract": ["plan"],
        "shard.transform": ["plan", "shard.extract"],  # each stage reads its shard from plan
        "check_shards": ["plan"],  # the check stage's shards: fetch shards merged
        "check": ["check_shards", "shard.transform"],
        "load": ["check", "plan"],
        "summary": ["load"],
    }
    # A shard's later stages run whatever became of its earlier ones: each picks the sources ready for it.
    assert {t.task_id: (t.trigger_rule, t.pool) for t in dag.tasks} == {
        "plan": ("all_success", "default_pool"),
        "shard.extract": ("all_success", "news_fetch"),
        "shard.transform": ("all_done", "default_pool"),
        "check_shards": ("all_success", "default_pool"),
        "check": ("all_done", "news_check"),
        "load": ("all_done", "default_pool"),
        "summary": ("all_done", "default_pool"),
    }
    # No task returning a dict has each key pushed as its own XCom.
    assert not any(getattr(t, "multiple_outputs", False) for t in dag.tasks)
    assert [a.name for a in dag.get_task("summary").outlets] == ["news.articles"]
    assert set(dag.params) == {"date", "refetch", "reprocess"}
    assert dag.default_args["on_failure_callback"] is not None
    # Done within 6 h of being queued, so by 06:00 the day after (NEWS_ETL_LOAD_DEADLINE), else the webhook notifier.
    (deadline,) = dag.deadline if isinstance(dag.deadline, list) else [dag.deadline]
    assert (deadline.interval, deadline.callback.path) == (timedelta(hours=6), "news_etl.alerts.WebhookNotifier")
    # Real one-day intervals (not the zero-width intervals of Airflow 3's @daily preset).
    interval = dag.timetable.infer_manual_data_interval(run_after=pendulum.datetime(2024, 3, 2, tz="UTC"))
    assert (interval.end - interval.start).total_seconds() == 86400


def test_news_backfill_archive_wiring(dagbag_of):
    """Files, mapped over the crawl's WARC files, then the days completed, then a news_daily run
    per day (mapped over the days' confs)."""
    dag = dagbag_of().dags["news_backfill_archive"]
    upstream = {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}
    assert upstream == {"crawl_files": [], "file_crawl_warc": ["crawl_files"],
                        "complete_days": ["file_crawl_warc"], "load_days": ["complete_days"]}
    assert set(dag.params) == {"start", "end", "again"} and type(dag.timetable).__name__ == "NullTimetable"
    assert dag.get_task("load_days").partial_kwargs["trigger_dag_id"] == "news_daily"
    assert dag.max_active_runs == 1


def test_news_digest_is_scheduled_on_the_articles_asset(dagbag_of):
    digest = dagbag_of().dags["news_digest"]
    assert [a.name for a in digest.timetable.asset_condition.objects] == ["news.articles"]
    assert [t.task_id for t in digest.tasks] == ["digest"]


@pytest.mark.parametrize("broken, edit, error", [
    ("source", lambda text: text.replace("timezone: Asia/Tehran", "timezone: Asia/Tehrn"),
     "{bad}: key 'timezone': 'Asia/Tehrn' is not an IANA time zone (e.g. Asia/Tehran)"),
    ("suite", lambda text: "thresholds: {max_failed_ratio: 5}\n",
     "{bad}: key 'thresholds.max_failed_ratio': expected a number from 0 to 1"),
])
def test_a_bad_source_or_suite_file_leaves_out_its_source_only(dagbag_of, tmp_path, monkeypatch, broken, edit, error):
    """The DAG still imports with the other sources; the left-out one and its file's error (file
    and key) are what plan records for the run's summary."""
    from news_etl.suites import DEFAULT_SUITES_DIR

    sources, suites = tmp_path / "sources", tmp_path / "expectations"
    shutil.copytree(DEFAULT_SOURCES_DIR, sources)
    shutil.copytree(DEFAULT_SUITES_DIR, suites)
    monkeypatch.setenv("NEWS_ETL_SUITES", str(suites))
    bad = sources / "tehran-wire.yaml" if broken == "source" else suites / "sources" / "tehran-wire.yaml"
    bad.write_text(edit(bad.read_text() if bad.exists() else ""))
    bag = dagbag_of(sources)
    assert bag.import_errors == {} and "news_daily" in bag.dag_ids
    runnable, left_out = pipeline.runnable_sources(sources)  # what plan computes
    assert sorted(runnable) == sorted(p.stem for p in DEFAULT_SOURCES_DIR.glob("*.yaml") if p.stem != "tehran-wire")
    assert left_out == {"tehran-wire": error.format(bad=bad)}


@pytest.mark.parametrize("count", [6, 2000])
def test_parsing_reads_no_source_file_however_many(dagbag_of, tmp_path, count):
    """The DAG files never list nor open the sources folder: with 6 or 2,000 source files, one of
    them broken, the DAGs import without error. (How long a parse takes is in `make bench`'s scale run.)"""
    sources = tmp_path / "sources"
    sources.mkdir()
    sample = (DEFAULT_SOURCES_DIR / "harbor-times.yaml").read_text()
    for n in range(count - 1):
        (sources / f"wire-{n:04d}.yaml").write_text(sample.replace("name: harbor-times", f"name: wire-{n:04d}"))
    (sources / "broken.yaml").write_text("name: broken\ntimezone: Europe/Nowhere\n")
    touched = []
    watching = [True]

    def audit(event, args):
        if watching[0] and event in ("open", "os.listdir", "os.scandir") and args and str(args[0]).startswith(str(sources)):
            touched.append((event, str(args[0])))

    sys.addaudithook(audit)  # (a hook cannot be removed: it stops watching when the test ends)
    try:
        bag = dagbag_of(sources)
    finally:
        watching[0] = False
    assert bag.import_errors == {} and sorted(bag.dag_ids) == ["news_backfill_archive", "news_daily", "news_digest"]
    assert touched == []
