"""Shards of sources: grouped by host, balanced by size, at most NEWS_ETL_SHARDS; and a shard's
stage against the sample publishers and a real PostgreSQL: each source on its own, a failure or a
block that source's only, a retry that redoes only what failed, a cleared run that redoes it all."""

from __future__ import annotations

import logging
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote

import pytest

from conftest import SAMPLE_NOW
from helpers import expected_articles, loaded_articles, rows
from news_etl import pipeline, shards, warehouse
from news_etl.errors import ConfigError
from news_etl.sample_sites.publishers import BAD_DAY
from news_etl.sources import DEFAULT_SOURCES_DIR, load_source


def wire(tmp_path, name: str, *hosts: str):
    path = tmp_path / f"{name}.yaml"
    feeds = ", ".join(f"http://{h}/{name}.xml" for h in hosts)
    path.write_text(f"name: {name}\ntimezone: UTC\nfeeds: [{feeds}]\n")
    return load_source(path)


@pytest.mark.parametrize("layout, count, weights, expected", [
    # one host each, no history: balanced by number of sources
    ({"a": ["h1"], "b": ["h2"], "c": ["h3"], "d": ["h4"]}, 2, {}, [["a", "c"], ["b", "d"]]),
    # sources sharing a host are never split, even when that unbalances the shards
    ({"a": ["h1"], "b": ["h1"], "c": ["h1"], "d": ["h2"]}, 2, {}, [["a", "b", "c"], ["d"]]),
    # a host shared through a third source links them all (a: h1, b: h1+h2, c: h2)
    ({"a": ["h1"], "b": ["h1", "h2"], "c": ["h2"], "d": ["h3"]}, 3, {}, [["a", "b", "c"], ["d"]]),
    # balanced by size: the source listing 100 articles a day gets a shard of its own
    ({"a": ["h1"], "b": ["h2"], "c": ["h3"], "d": ["h4"]}, 2, {"a": 100, "b": 5, "c": 5}, [["a"], ["b", "c", "d"]]),
    # more shards than groups: no empty shard
    ({"a": ["h1"], "b": ["h1"]}, 5, {}, [["a", "b"]]),
])
def test_make_shards_groups_by_host_and_balances_by_size(tmp_path, layout, count, weights, expected):
    sources = [wire(tmp_path, name, *hosts) for name, hosts in layout.items()]
    assert shards.make_shards(sources, count, weights, BAD_DAY) == expected


@pytest.mark.parametrize("raw, sources, expected", [
    (None, 5000, 64), (None, 6, 6), (None, 0, 1), ("8", 5000, 8), ("8", 3, 3), ("200", 5000, 200),
    ("1024", 5000, 1024)])
def test_shard_count_is_the_setting_or_at_most_64(monkeypatch, raw, sources, expected):
    if raw is None:
        monkeypatch.delenv("NEWS_ETL_SHARDS", raising=False)
    else:
        monkeypatch.setenv("NEWS_ETL_SHARDS", raw)
    assert shards.shard_count(sources) == expected


@pytest.mark.parametrize("raw", ["0", "-3", "many", "2.5", "1025"])
def test_a_bad_shard_count_names_the_setting(monkeypatch, raw):
    monkeypatch.setenv("NEWS_ETL_SHARDS", raw)
    with pytest.raises(ConfigError, match=rf"environment variable NEWS_ETL_SHARDS={raw!r}: expected a whole number"):
        shards.shard_count(10)


def test_shard_labels_name_the_source_or_the_shard_and_its_failures():
    assert shards.shard_label(0, ["tehran-wire"], ["tehran-wire"]) == "tehran-wire"
    assert shards.shard_label(2, ["a", "b", "c"]) == "shard 3: 3 sources"
    assert shards.shard_label(2, ["a", "b", "c"], ["b"]) == "shard 3: 3 sources; failed: b"
    long = shards.shard_label(0, [f"s{n}" for n in range(200)], [f"source-{n}" for n in range(200)])
    assert len(long) == shards.LABEL_LENGTH and long.endswith("…")


def test_a_shards_stages_isolate_each_source_and_a_retry_redoes_only_what_failed(
        dsn, settings, sample_sources, sample_url, sample_clock, site, tmp_path):
    """The sample publishers' bad day, with a third source whose only feed is gone: its extract
    fails, tehran-wire is blocked by the gate, harbor-times loads all but its bad article."""
    directory = tmp_path / "sources"
    directory.mkdir()
    for name in ("harbor-times", "tehran-wire"):
        shutil.copy(DEFAULT_SOURCES_DIR / f"{name}.yaml", directory)
    (directory / "gone-gazette.yaml").write_text(
        f"name: gone-gazette\ntimezone: UTC\nfeeds: [{site.url('/missing.xml')}]\n")
    sample_clock(datetime(2024, 4, 3, tzinfo=timezone.utc))
    shard = ["gone-gazette", "harbor-times", "tehran-wire"]
    run = pipeline.Run(run_id="sharded", day=BAD_DAY, dsn=dsn, settings=settings)

    def stage(name: str, clear: int = 0) -> shards.StageOutcome:
        return shards.run_stage(name, shard, run, clear, directory=directory)

    def attempts() -> dict[str, int]:
        return dict(rows(dsn, "SELECT source, count(*) FROM news.etl_run WHERE run_id = 'sharded' GROUP BY source"))

    extract = stage("extract")
    assert (extract.completed, list(extract.failed), extract.blocked, extract.pending) == (
        ["harbor-times", "tehran-wire"], ["gone-gazette"], {}, [])
    assert "gone-gazette" in str(extract.error()) and "missing.xml: HTTP 404" in str(extract.error())
    # A retry of the task: only the source that failed is fetched again (a new attempt of it).
    again = stage("extract")
    assert (sorted(again.completed), list(again.failed)) == (["harbor-times", "tehran-wire"], ["gone-gazette"])
    assert attempts() == {"gone-gazette": 2, "harbor-times": 1, "tehran-wire": 1}

    transform = stage("transform")
    assert (transform.completed, transform.failed) == (["harbor-times", "tehran-wire"], {})
    check = stage("check")
    assert (check.completed, check.failed, list(check.blocked)) == (["harbor-times"], {}, ["tehran-wire"])
    assert "tehran-wire: source tehran-wire: load blocked by the quality gate" in str(check.error())
    load = stage("load")
    assert (load.completed, load.failed, load.blocked) == (["harbor-times"], {}, {})
    assert shards.has_work(load)
    assert shards.source_outcomes(dsn, "sharded", "check", shard) == {
        "gone-gazette": "skip", "harbor-times": "ok", "tehran-wire": "BLOCKED"}
    assert shards.source_outcomes(dsn, "sharded", "extract", shard)["gone-gazette"] == "FAILED"

    summary = {r["source"]: r for r in pipeline.run_summary(dsn, "sharded")}
    assert {n: r["status"] for n, r in summary.items()} == {
        "gone-gazette": "failed", "harbor-times": "success", "tehran-wire": "blocked"}
    expected = expected_articles("harbor-times", sample_url, BAD_DAY, datetime(2024, 4, 3, tzinfo=timezone.utc))
    assert summary["harbor-times"]["loaded_new"] == len(loaded_articles(dsn, "harbor-times")) == len(expected) - 1
    assert rows(dsn, "SELECT count(*) FROM news.article a JOIN news.source s USING (source_id) "
                     "WHERE s.name = 'tehran-wire'") == [(0,)]

    # Airflow clears the run: everything is done again (the archive holds the day: nothing unchanged
    # is fetched), the gate's block included.
    cleared = stage("extract", clear=1)
    assert (cleared.completed, list(cleared.failed)) == (["harbor-times", "tehran-wire"], ["gone-gazette"])
    assert attempts() == {"gone-gazette": 3, "harbor-times": 2, "tehran-wire": 2}


def test_a_stage_with_no_source_ready_has_no_work(dsn, settings, sample_sources, tmp_path):
    run = pipeline.Run(run_id="idle", day=BAD_DAY, dsn=dsn, settings=settings)
    outcome = shards.run_stage("transform", ["harbor-times"], run, 0, directory=DEFAULT_SOURCES_DIR)
    assert (outcome.pending, outcome.completed, shards.has_work(outcome), outcome.error()) == ([], [], False, None)


def test_a_source_whose_file_is_gone_by_its_task_is_that_sources_failure(dsn, settings, sample_sources, tmp_path):
    directory = tmp_path / "sources"
    shutil.copytree(DEFAULT_SOURCES_DIR, directory)
    run = pipeline.Run(run_id="gone", day=SAMPLE_NOW.date(), dsn=dsn, settings=settings)
    (directory / "wadi-post.yaml").unlink()
    outcome = shards.run_stage("extract", ["wadi-post"], run, 0, directory=directory)
    assert outcome.failed == {"wadi-post": f"{directory}: no source file names source 'wadi-post' any more"}
    assert rows(dsn, "SELECT source, status, message FROM news.etl_run") == [
        ("wadi-post", "failed", f"extract failed: {directory}: no source file names source 'wadi-post' any more")]


def test_after_a_clear_a_source_whose_extract_failed_goes_no_further(dsn, settings, sample_sources, sample_url,
                                                                      sample_clock, tmp_path):
    """Clearing 1 of a run that loaded the source in clearing 0: its extract fails (its file is
    gone), so transform, check and load leave it out, and its failure stays recorded."""
    directory = tmp_path / "sources"
    directory.mkdir()
    for name in ("harbor-times", "tehran-wire"):  # (the folder keeps a source when one file is gone)
        shutil.copy(DEFAULT_SOURCES_DIR / f"{name}.yaml", directory)
    sample_clock(datetime(2024, 4, 3, tzinfo=timezone.utc))
    run = pipeline.Run(run_id="cleared", day=BAD_DAY, dsn=dsn, settings=settings)
    for stage in warehouse.STAGES:
        assert shards.run_stage(stage, ["harbor-times"], run, 0, directory=directory).completed == ["harbor-times"]
    (directory / "harbor-times.yaml").unlink()
    assert list(shards.run_stage("extract", ["harbor-times"], run, 1, directory=directory).failed) == ["harbor-times"]
    shutil.copy(DEFAULT_SOURCES_DIR / "harbor-times.yaml", directory)
    for stage in warehouse.STAGES[1:]:
        outcome = shards.run_stage(stage, ["harbor-times"], run, 1, directory=directory)
        assert (outcome.completed, outcome.failed, outcome.pending) == ([], {}, []), stage
    ((status, message),) = rows(dsn, "SELECT status, message FROM news.etl_run_latest WHERE run_id = 'cleared'")
    assert status == "failed" and message.startswith("extract failed: ") and "no source file names source 'harbor-times'" in message


def test_a_shards_check_task_builds_the_data_docs_index_once_and_never_fails_for_it(
        dsn, settings, sample_sources, sample_url, sample_clock, tmp_path):
    """Each source's page as it is checked, the index once after the shard's last source. An
    index that cannot be written (here index.html is a folder) is logged once for the whole
    shard; the checks stand, and the next build lists every validation."""
    sample_clock(datetime(2024, 4, 3, tzinfo=timezone.utc))
    shard = ["harbor-times", "tehran-wire"]
    run = pipeline.Run(run_id="docs", day=BAD_DAY, dsn=dsn, settings=settings)
    for stage in ("extract", "transform"):
        assert shards.run_stage(stage, shard, run, 0, directory=DEFAULT_SOURCES_DIR).completed == shard
    index = settings.data_docs_root / "index.html"
    index.mkdir(parents=True)
    warned = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: warned.append(record.getMessage())
    gate_log = logging.getLogger("news_etl.quality")  # its own handler: the root's depends on the logging set-up
    gate_log.addHandler(handler)
    try:
        check = shards.run_stage("check", shard, run, 0, directory=DEFAULT_SOURCES_DIR)
    finally:
        gate_log.removeHandler(handler)
    assert (check.completed, check.failed, list(check.blocked)) == (["harbor-times"], {}, ["tehran-wire"])
    assert warned == [f"Data Docs site {settings.data_docs_root}: the index was not rebuilt"]
    pages = dict(rows(dsn, "SELECT source, data_docs FROM news.etl_run WHERE run_id = 'docs' ORDER BY source"))
    assert sorted(pages) == shard and all(Path(p).is_file() for p in pages.values())

    index.rmdir()
    assert pipeline.finish_checks(run) == index
    listed = {unquote(href) for href in re.findall(r'<a href="(validations/[^"]+)">', index.read_text())}
    assert listed == {str(Path(p).relative_to(settings.data_docs_root)) for p in pages.values()}


@pytest.mark.parametrize("raw, fetch_shards, expected", [
    # 6 sources of 6 shards, 50 a check task by default: one check task
    (None, [["a"], ["b"], ["c"], ["d"], ["e"], ["f"]], [["a", "b", "c", "d", "e", "f"]]),
    # 3 a task, 7 sources: 3 check shards, whole fetch shards merged, the biggest first, each to
    # the smallest so far
    ("3", [["a", "b", "c"], ["d"], ["e"], ["f", "g"]], [["a", "b", "c"], ["d", "e"], ["f", "g"]]),
    # never more check shards than fetch shards, never an empty one
    ("1", [["a", "b"], ["c"]], [["a", "b"], ["c"]]),
    (None, [], []),
])
def test_check_shards_merge_whole_fetch_shards(monkeypatch, raw, fetch_shards, expected):
    if raw is None:
        monkeypatch.delenv("NEWS_ETL_CHECK_SOURCES", raising=False)
    else:
        monkeypatch.setenv("NEWS_ETL_CHECK_SOURCES", raw)
    merged = shards.check_shards(fetch_shards)
    assert merged == expected
    assert sorted(n for s in merged for n in s) == sorted(n for s in fetch_shards for n in s)


@pytest.mark.parametrize("raw", ["0", "-1", "some", "2.5"])
def test_a_bad_check_size_names_the_setting(monkeypatch, raw):
    monkeypatch.setenv("NEWS_ETL_CHECK_SOURCES", raw)
    with pytest.raises(ConfigError, match=rf"environment variable NEWS_ETL_CHECK_SOURCES={raw!r}: expected a whole"):
        shards.check_shards([["a"]])
