"""`make bench`: the pipeline's throughput at 1,000 and 10,000 articles, each figure beside its peer.

A scaled world of the sample publishers (sample_sites.server.Scale: S sources, each a copy of one
of the six publishers with N stories on the collected day, spread over H local servers that stand
for H hosts) is collected and measured, for N*S = 1,000 and 10,000:

- parse: articles/s per core of the project's parsers (each source's rules, then the generic
  extractor) and of trafilatura.extract on the same pages in the same process, alternating rounds;
  and the accuracy of both against the generator's truth (body F1 as bench_extract scores it);
- load: rows/s of the real load path (stage COPY, checks' status, partitions, merge into
  articles, versions and mentions) and of a bare COPY of the same rows into an unindexed table;
- fetch: pages/s of extract's fetching against the local servers with politeness off, and what
  per-host politeness does to a real-site configuration (measured with a short crawl delay,
  scaled to one second by the model it follows);
- end to end: one news_daily run through a real Airflow (scheduler, LocalExecutor, api-server,
  dag-processor: what `make airflow` runs), its time by stage, and a second run of the same day
  (nothing new); the peak RSS of every task process;
- each figure's 10,000 / 1,000 ratio.

Usage: .venv/bin/python tests/bench/bench_pipeline.py [--sizes 1000,10000] [--sources 10] [--hosts 5]
       [--skip-airflow] [--keep]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import math
import multiprocessing
import os
import pstats
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.error
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path

import psutil
import psycopg2
import requests

from news_etl import PROJECT_DIR, warehouse
from news_etl.airflow_api import AirflowApi
from news_etl.sample_sites.publishers import (
    PUBLISHERS, Edition, SampleArticle, archive_feed_path, articles_for, as_of, live_feed_path)
from news_etl.sample_sites.server import Scale, cached_route, serve_in_thread
from news_etl.sources import DEFAULT_SOURCES_DIR, Source, load_sources
from news_etl.suites import DEFAULT_SUITES_DIR

from bench_extract import body_score  # this folder is on sys.path when the script runs

# Benchmark data spans months and years; partitions are made for all of it.
BENCH_WINDOW = (datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc))

DAY = date(2024, 3, 5)  # no clock change anywhere the publishers are; near the story codes' epoch
CLOCK = datetime(2024, 3, 6, 12, 0, tzinfo=timezone.utc)  # every story of DAY is out everywhere
SAMPLE_URL = "${NEWS_SAMPLE_URL:-http://127.0.0.1:8750}"


@dataclass
class World:
    """S sources × N stories of DAY on H local servers; the source and suite folders that point at them."""

    sources: int
    per_day: int
    hosts: int
    root: Path
    urls: list[str] = field(default_factory=list)

    @property
    def articles(self) -> int:
        return self.sources * self.per_day

    @property
    def sources_dir(self) -> Path:
        return self.root / "sources"

    @property
    def suites_dir(self) -> Path:
        return self.root / "expectations"

    @property
    def scale(self) -> Scale:
        return Scale(self.per_day, copies=math.ceil(self.sources / len(PUBLISHERS)))

    def start(self) -> World:
        """The servers run in a process of their own (their CPU is not the pipeline's, though it
        is the same machine's), every page rendered before the clock starts."""
        self._conn, child = multiprocessing.get_context("fork").Pipe()
        self._process = multiprocessing.get_context("fork").Process(
            target=_serve_world, args=(self.sources, self.scale, self.hosts, child), daemon=True)
        self._process.start()
        self.urls = self._conn.recv()
        self.write_sources()
        return self

    @property
    def server_pid(self) -> int:
        return self._process.pid

    def stop(self) -> None:
        self._conn.send("stop")
        self._process.join(30)

    def write_sources(self, crawl_delay: float = 0) -> None:
        """Source i is copy i // 6 of publisher i % 6, on host i % H: the sample source files with
        their URLs moved there, and the sample suites under the copies' names."""
        shutil.rmtree(self.sources_dir, ignore_errors=True)
        shutil.rmtree(self.suites_dir, ignore_errors=True)
        self.sources_dir.mkdir(parents=True)
        shutil.copytree(DEFAULT_SUITES_DIR, self.suites_dir)
        overrides = self.suites_dir / "sources"
        publishers = list(PUBLISHERS)
        for i in range(self.sources):
            slug, copy = publishers[i % len(publishers)], i // len(publishers)
            text = (DEFAULT_SOURCES_DIR / f"{slug}.yaml").read_text(encoding="utf-8")
            text = text.replace(SAMPLE_URL, f"{self.urls[i % self.hosts]}/x{copy}")
            text = re.sub(r"(?m)^name: .*$", f"name: {self.name(i)}", text)
            text = re.sub(r"(?m)^crawl_delay: .*$", f"crawl_delay: {crawl_delay:g}", text)
            (self.sources_dir / f"{self.name(i)}.yaml").write_text(text, encoding="utf-8")
            if (overrides / f"{slug}.yaml").exists():
                shutil.copy(overrides / f"{slug}.yaml", overrides / f"{self.name(i)}.yaml")

    def articles_of(self, i: int) -> list[SampleArticle]:
        """Source i's stories of DAY (copy i // 6 of publisher i % 6)."""
        publishers = list(PUBLISHERS)
        return articles_for(publishers[i % len(publishers)], DAY, Edition(self.per_day, i // len(publishers)))

    def page_url(self, i: int, article: SampleArticle) -> str:
        return f"{self.urls[i % self.hosts]}/x{i // len(PUBLISHERS)}{article.path}"

    def name(self, i: int) -> str:
        publishers = list(PUBLISHERS)
        return f"{publishers[i % len(publishers)]}-{i // len(publishers)}"

    def load(self) -> list[Source]:
        return load_sources(self.sources_dir)

    def env(self) -> dict[str, str]:
        """What a process collecting this world needs in its environment."""
        return {"NEWS_ETL_SOURCES": str(self.sources_dir), "NEWS_ETL_SUITES": str(self.suites_dir),
                "NEWS_ETL_ALLOW_HOSTS": "127.0.0.1", "NEWS_ETL_LOOKBACK_DAYS": "0"}


# --- parse: the project's parsers beside trafilatura, on the same pages ------------------------------

@dataclass
class ParseResult:
    pages: int
    project_cpu: float      # CPU seconds of parse_article over every page
    trafilatura_cpu: float  # CPU seconds of trafilatura.extract over the same pages
    project_f1: float
    trafilatura_f1: float
    records: dict[str, list[dict]]  # staging rows by source, for the load benchmark
    profile: list[tuple[str, float]]  # where parse_article's time goes (cProfile, cumulative share)

    @property
    def ratio(self) -> float:
        return self.trafilatura_cpu / self.project_cpu


def bench_parse(world: World) -> ParseResult:
    """Each source's pages, downloaded (untimed) from its server one source at a time, parsed by
    both in turn; CPU time of this process, so one core's throughput."""
    import trafilatura

    from news_etl.articles import article_record, parse_article

    sources = {s.name: s for s in world.load()}
    project_cpu = trafilatura_cpu = 0.0
    project_pairs, trafilatura_pairs, pages = [], [], 0
    profile = cProfile.Profile()
    records: dict[str, list[dict]] = {}
    session = requests.Session()
    for i in range(world.sources):
        source = sources[world.name(i)]
        truth = {world.page_url(i, a): as_of(a, CLOCK) for a in world.articles_of(i)}
        downloaded = [(url, session.get(url).content) for url in truth]
        pages += len(downloaded)
        parse_article(downloaded[0][1], url=downloaded[0][0], source=source)  # warm: compiled rules
        started = time.process_time()
        parsed = [parse_article(data, url=url, source=source) for url, data in downloaded]
        project_cpu += time.process_time() - started
        started = time.process_time()
        extracted = [trafilatura.extract(data, url=url, include_comments=False) or "" for url, data in downloaded]
        trafilatura_cpu += time.process_time() - started
        for (url, _), article, theirs in zip(downloaded, parsed, extracted):
            project_pairs.append((truth[url].body, article.body or ""))
            trafilatura_pairs.append((truth[url].body, theirs))
        records[source.name] = [article_record(source, url, article) for (url, _), article in zip(downloaded, parsed)]
        if i < len(PUBLISHERS):  # one source of each publisher, profiled apart (not in the figures)
            profile.runcall(lambda: [parse_article(data, url=url, source=source) for url, data in downloaded])
    return ParseResult(pages, project_cpu, trafilatura_cpu, body_score(project_pairs).f1,
                       body_score(trafilatura_pairs).f1, records, _top(profile))


def _top(profile: cProfile.Profile, entries: int = 14) -> list[tuple[str, float]]:
    """(function, share of the profiled time spent in it and what it calls), largest first."""
    stats = pstats.Stats(profile)
    total = stats.total_tt
    rows = [(f"{Path(file).name}:{line} {name}", cumulative / total)
            for (file, line, name), (_, _, _, cumulative, _) in stats.stats.items()
            if "news_etl" in file and name not in ("<listcomp>", "<lambda>", "<genexpr>")]
    return sorted(rows, key=lambda r: -r[1])[:entries]


# --- load: the real load path beside a bare COPY -----------------------------------------------------

@dataclass
class LoadResult:
    rows: int
    seconds: float                   # the load path, wall time
    steps: dict[str, float]          # ... by step
    copy_seconds: float              # a bare COPY of the same rows into an unindexed table
    merge_profile: dict[str, float] = field(default_factory=dict)  # the merge statement by statement

    @property
    def ratio(self) -> float:
        return self.seconds / self.copy_seconds


def bench_load(records: dict[str, list[dict]], dsn: str) -> LoadResult:
    """Per source, as the load task does: the rows staged by COPY, passed (the checks' verdict),
    their months' partitions made, merged into articles, versions and mentions. Then the same
    rows' CSV by one COPY into a table with the staging columns and no index."""
    from news_etl.terms import load_watch_terms

    run_id = "bench-load"
    steps = dict.fromkeys(("stage (CSV + COPY)", "pass", "partitions", "merge", "story clusters"), 0.0)
    with warehouse.connect(dsn) as conn:
        warehouse.sync_watch_terms(conn, load_watch_terms())
    for source, rows in records.items():
        with warehouse.connect(dsn) as conn, conn.cursor() as cur:
            started = time.perf_counter()
            warehouse.stage_records(conn, run_id, source, DAY, rows)
            conn.commit()
            steps["stage (CSV + COPY)"] += time.perf_counter() - started
            started = time.perf_counter()
            cur.execute("UPDATE news.stage_article SET dq_status = 'passed' WHERE run_id = %s AND source = %s "
                        "AND parse_error IS NULL", (run_id, source))
            conn.commit()
            steps["pass"] += time.perf_counter() - started
            started = time.perf_counter()
            warehouse.add_article_months(conn, run_id, source, BENCH_WINDOW)
            conn.commit()
            steps["partitions"] += time.perf_counter() - started
            started = time.perf_counter()
            warehouse.upsert_source(conn, name=source, title=source, timezone="UTC", has_story_codes=False)
            warehouse.merge_articles(conn, run_id, source)
            steps["merge"] += time.perf_counter() - started
            started = time.perf_counter()
            warehouse.cluster_stories(conn)  # in the merge's transaction, as pipeline.load
            conn.commit()
            steps["story clusters"] += time.perf_counter() - started
    columns = ", ".join(warehouse.STAGE_COLUMNS)
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE bench_bare AS SELECT {columns} FROM news.stage_article WITH NO DATA")
        conn.commit()
        csv = io.StringIO("".join(warehouse.stage_csv(run_id, source, DAY, rows)[0].getvalue()
                                  for source, rows in records.items()))
        started = time.perf_counter()
        cur.copy_expert(f"COPY bench_bare ({columns}) FROM STDIN WITH (FORMAT csv, NULL '')", csv)
        conn.commit()
        copy_seconds = time.perf_counter() - started
        cur.execute("DROP TABLE bench_bare")
    return LoadResult(sum(map(len, records.values())), sum(steps.values()), steps, copy_seconds)


def profile_merge(records: dict[str, list[dict]], dsn: str) -> dict[str, float]:
    """Where the merge's time goes: the same load into a fresh database with merge_articles.sql
    run statement by statement (in one transaction, as the load does), plus, apart, the search
    vectors of the same rows alone."""
    from news_etl.terms import load_watch_terms

    sql = warehouse.sql_file("load/merge_articles.sql")
    statements = [s for s in re.split(r";\s*\n", sql) if re.sub(r"(?m)^\s*--.*$", "", s).strip()]
    seconds: dict[str, float] = {}
    with warehouse.connect(dsn) as conn:
        warehouse.sync_watch_terms(conn, load_watch_terms())
    for source, rows in records.items():
        with warehouse.connect(dsn) as conn, conn.cursor() as cur:
            warehouse.stage_records(conn, "bench-profile", source, DAY, rows)
            cur.execute("UPDATE news.stage_article SET dq_status = 'passed' WHERE source = %s", (source,))
            conn.commit()
            warehouse.add_article_months(conn, "bench-profile", source, BENCH_WINDOW)
            warehouse.upsert_source(conn, name=source, title=source, timezone="UTC", has_story_codes=False)
            conn.commit()
            for statement in statements:
                code = " ".join(re.sub(r"(?m)^\s*--.*$", "", statement).split())
                label = next(m.group(0) for m in [re.search(
                    r"(INSERT INTO|UPDATE|DELETE FROM|CREATE TEMP TABLE|DROP TABLE IF EXISTS) [\w.]+|SELECT \S+", code)])
                started = time.perf_counter()
                cur.execute(statement, {"run_id": "bench-profile", "source": source})
                seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - started
            conn.commit()
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        started = time.perf_counter()
        cur.execute("SELECT count(news.article_search_vector(coalesce(l.config, 'simple'), title, body)) "
                    "FROM news.stage_article s LEFT JOIN news.text_search_language l "
                    "ON l.language = lower(split_part(s.language, '-', 1))")
        seconds["(apart: the search vectors alone)"] = time.perf_counter() - started
    return seconds


# --- fetch: politeness off, and per-host politeness simulated ---------------------------------------

@dataclass
class FetchResult:
    pages: int
    one_task_rate: float         # pages/s of one source's pages through one Fetcher (an extract task)
    across_hosts_rate: float     # pages/s of every source's pages through get_many (hosts at once)
    delay: float                 # the short crawl delay simulated
    polite_seconds: float        # measured with it
    polite_model: float          # what the model (max over hosts of pages on the host × delay) says
    pages_per_host: int
    busiest_host: int            # the whole world's pages on its busiest host
    sampled: int                 # pages fetched with the delay


def bench_fetch(world: World, delay: float = 0.02) -> FetchResult:
    from news_etl.fetch import Fetcher
    from news_etl.settings import Settings

    settings = replace(Settings.from_env(), allow_hosts=("127.0.0.1",), retries=0)
    urls = [world.page_url(i, a) for i in range(world.sources) for a in world.articles_of(i)]
    first = [world.page_url(0, a) for a in world.articles_of(0)]
    with Fetcher(settings) as fetcher:
        started = time.perf_counter()
        got = [fetcher.get(url) for url in first]
        one_task = len(got) / (time.perf_counter() - started)
    with Fetcher(settings) as fetcher:
        started = time.perf_counter()
        fetched = sum(1 for _, r in fetcher.get_many(urls) if not isinstance(r, Exception))
        across = fetched / (time.perf_counter() - started)
    assert fetched == len(urls), f"{len(urls) - fetched} pages failed"
    # Politeness: sources on one host share its turns; a few pages per source keep it short.
    sample = [world.page_url(i, a) for i in range(world.sources) for a in world.articles_of(i)[:20]]
    per_host = max(sum(1 for u in sample if u.startswith(h + "/")) for h in world.urls)
    with Fetcher(settings, crawl_delay=delay) as fetcher:
        started = time.perf_counter()
        for _ in fetcher.get_many(sample):
            pass
        polite = time.perf_counter() - started
    busiest = max(sum(1 for u in urls if u.startswith(h + "/")) for h in world.urls)
    return FetchResult(len(urls), one_task, across, delay, polite, (per_host - 1) * delay, per_host, busiest,
                       len(sample))


# --- end to end: news_daily through a real Airflow -------------------------------------------------

STAGES = ("plan", "extract", "transform", "check", "load", "summary")
_TASK_PROCESS = re.compile(r"airflow worker -- ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")


class ProcessMonitor:
    """Every process on the machine, polled: the peak RSS (VmHWM, the high-water mark the kernel
    keeps, so exact between polls) of each task process, which Airflow titles "airflow worker --
    <task instance id>", and the CPU seconds each kind of process used (the last value seen of a
    process that has ended: at most one poll interval short)."""

    KINDS = (("task", _TASK_PROCESS), ("task supervisor", re.compile(r"airflow worker -- LocalExecutor")),
             ("scheduler", re.compile(r"scheduler")), ("api-server", re.compile(r"api.server")),
             ("dag-processor", re.compile(r"dag.processor")), ("triggerer", re.compile(r"triggerer")))

    def __init__(self, airflow_home: str, postmaster: int, servers: int, every: float = 0.1, dsn: str | None = None):
        """Processes with this AIRFLOW_HOME are Airflow's; the children of `postmaster` the
        warehouse's; `servers` the sample publishers; every other process is "not the benchmark".
        With `dsn`, PostgreSQL's CPU is also told apart by the session each backend serves
        ("postgres (news-etl load)", "postgres (airflow)"; its processes of no session "postgres
        (server)"), read from pg_stat_activity once a second; "postgres" stays the total."""
        self.home, self.postmaster, self.servers, self.every = airflow_home, postmaster, servers, every
        self.dsn, self._sessions, self._sessions_read, self._pg = dsn, {}, 0.0, None
        self.peaks: dict[str, int] = {}
        self.task_cpu: dict[str, float] = {}  # CPU seconds of each task process (by task instance id)
        self.cpu: dict[int, tuple[str, float]] = {}
        self._kinds: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _kind(self, proc: psutil.Process, title: str) -> str:
        if proc.pid == os.getpid():
            return "bench"
        if proc.pid == self.servers:
            return "sample servers"
        if proc.pid == self.postmaster or proc.info["ppid"] == self.postmaster:
            return "postgres"
        try:
            ours = proc.environ().get("AIRFLOW_HOME") == self.home
        except psutil.Error:
            ours = False
        # A process that sets its title (the api-server does) overwrites its environment with it:
        # it is Airflow's when its parent is.
        if not ours and self._kinds.get(proc.info["ppid"], "not the benchmark") not in (
                "not the benchmark", "bench", "sample servers", "postgres"):
            ours = True
        if not ours:
            return "not the benchmark"
        return next((k for k, p in self.KINDS if p.search(title)), "airflow, other")

    def __enter__(self) -> ProcessMonitor:
        self._sample()
        self.cpu_before = self.cpu_by_kind()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def cpu_by_kind(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for kind, seconds in self.cpu.values():
            totals[kind] = totals.get(kind, 0.0) + seconds
        return totals

    def cpu_used(self) -> dict[str, float]:
        """CPU seconds by kind of process between entering and leaving."""
        after = self.cpu_by_kind()
        used = {k: after.get(k, 0.0) - self.cpu_before.get(k, 0.0) for k in after}
        used["postgres"] = sum(v for k, v in used.items() if k.startswith("postgres"))
        return used

    def _read_sessions(self) -> None:
        if self.dsn is None or time.monotonic() - self._sessions_read < 1:
            return
        self._sessions_read = time.monotonic()
        try:
            if self._pg is None:
                self._pg = psycopg2.connect(self.dsn, application_name="bench monitor")
                self._pg.autocommit = True
            with self._pg.cursor() as cur:
                cur.execute("SELECT pid, CASE WHEN application_name LIKE 'news-etl%' OR application_name = 'bench monitor' "
                            "THEN application_name ELSE 'airflow' END FROM pg_stat_activity "
                            "WHERE backend_type = 'client backend'")
                self._sessions.update(cur.fetchall())
        except psycopg2.Error:
            self._pg = None

    def _shown(self, pid: int, kind: str) -> str:
        if kind != "postgres" or self.dsn is None:
            return kind
        return f"postgres ({self._sessions.get(pid, 'server')})"

    def _poll(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def _sample(self) -> None:
        self._read_sessions()
        for proc in psutil.process_iter(["cmdline", "name", "cpu_times", "ppid"]):
            title = " ".join(proc.info["cmdline"] or ()) or proc.info["name"] or ""
            kind = self._kinds.get(proc.pid)
            if kind is None or kind == "task supervisor" and _TASK_PROCESS.search(title):
                # A task process is forked from its supervisor and titled after: look again.
                kind = self._kinds[proc.pid] = self._kind(proc, title)
            times = proc.info["cpu_times"]
            if times is not None:
                self.cpu[proc.pid] = (self._shown(proc.pid, kind), times.user + times.system)
            match = _TASK_PROCESS.search(title)
            if match:
                ti = match.group(1)
                peak = _vm_hwm(proc.pid)
                if peak:
                    self.peaks[ti] = max(peak, self.peaks.get(ti, 0))
                if times is not None:
                    self.task_cpu[ti] = max(times.user + times.system, self.task_cpu.get(ti, 0.0))


def _vm_hwm(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) * 1024 if match else None


@dataclass
class DagRun:
    seconds: float                   # trigger to the run's end, as the API reports them
    state: str
    tasks: list[dict]                # task instances: task, source, seconds, peak RSS
    loaded_new: int
    cpu: dict[str, float]            # CPU seconds by kind of process during the run

    def stage(self, name: str) -> dict:
        """A stage's span (first start to last end), its tasks' summed time and CPU, largest peak RSS;
        of the tasks that ran (the scheduler starts none for a task it skips)."""
        tasks = [t for t in self.tasks if t["stage"] == name and t["start"]]
        if not tasks:
            return dict(span=0.0, busy=0.0, cpu=0.0, tasks=0, rss=0)
        return dict(span=max(t["end"] for t in tasks) - min(t["start"] for t in tasks),
                    busy=sum(t["seconds"] for t in tasks), cpu=sum(t["cpu"] for t in tasks), tasks=len(tasks),
                    rss=max((t["rss"] or 0) for t in tasks))


def run_news_daily(airflow, run_id: str, monitor: dict, timeout: float = 1800) -> DagRun:
    """Trigger news_daily for DAY, wait for its end; its task instances with their peak RSS."""
    started = time.monotonic()
    with ProcessMonitor(**monitor) as memory:
        airflow.request("POST", "/api/v2/dags/news_daily/dagRuns",
                        {"dag_run_id": run_id, "logical_date": None, "conf": {"date": DAY.isoformat()}})
        run = airflow.wait_for(f"news_daily {run_id}", lambda: _finished(airflow, run_id), timeout, every=0.5)
    seconds = time.monotonic() - started
    tasks = []
    # Page by page (the API's 100 a request would cut a run of 25 shards or more), as `make run` reads them.
    for ti in AirflowApi(airflow.url, airflow.user, airflow.password).task_instances("news_daily", run_id):
        start, end = _ts(ti["start_date"]), _ts(ti["end_date"])
        tasks.append(dict(stage=ti["task_id"].split(".")[-1], source=ti["rendered_map_index"], state=ti["state"],
                          start=start, end=end, seconds=ti["duration"] or 0.0, rss=memory.peaks.get(ti["id"]),
                          cpu=memory.task_cpu.get(ti["id"], 0.0)))
    with warehouse.connect(airflow.dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT coalesce(sum(loaded_new), 0) FROM news.etl_run WHERE run_id = %s", (run_id,))
        (loaded,) = cur.fetchone()
    return DagRun(seconds=seconds, state=run["state"], tasks=tasks, loaded_new=loaded, cpu=memory.cpu_used())


def _finished(airflow, run_id: str) -> dict | None:
    try:
        run = airflow.request("GET", f"/api/v2/dags/news_daily/dagRuns/{run_id}")
    except (TimeoutError, urllib.error.URLError):  # a busy api-server on a loaded machine: ask again
        return None
    return run if run["state"] in ("success", "failed") else None


def _ts(value: str | None) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else 0.0


AIRFLOW_EXTRA = {}


def end_to_end(world: World, postgres) -> tuple[DagRun, DagRun]:
    """Two runs of news_daily for DAY on a fresh `make airflow` (LocalExecutor): the first collects
    the world, the second finds nothing new."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the live Airflow fixture's helpers
    from live_airflow import local_airflow

    (world.root / "airflow").mkdir(exist_ok=True)
    bytecode_cache()
    with local_airflow(world.root / "airflow", postgres, world.urls[0], extra_env={**world.env(), **AIRFLOW_EXTRA}) as airflow:
        airflow.request("PATCH", "/api/v2/dags/news_daily", {"is_paused": False})
        monitor = dict(airflow_home=str(world.root / "airflow" / "home"), postmaster=postmaster_pid(postgres),
                       servers=world.server_pid)
        first = run_news_daily(airflow, "bench-first", monitor)
        second = run_news_daily(airflow, "bench-second", monitor)
    return first, second


PYCACHE = PROJECT_DIR / ".state" / "bench-pycache"


def bytecode_cache() -> None:
    """Give Airflow's processes a bytecode cache, filled beforehand, as an installed system has.
    Without one (PYTHONDONTWRITEBYTECODE=1, as on the machine these figures come from, or a
    read-only site-packages) every task process compiles every module it imports again: some 7 of
    the 13 s that importing Great Expectations then takes. The cache is a folder of its own
    (PYTHONPYCACHEPREFIX): the virtual environment is not written to."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    folders = [sysconfig.get_paths()["purelib"], str(PROJECT_DIR / "include"), str(PROJECT_DIR / "dags")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", *folders],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ)


def postmaster_pid(postgres) -> int:
    return int((Path(postgres.data_dir) / "postmaster.pid").read_text().split()[0])


def _serve_world(sources: int, scale: Scale, hosts: int, conn) -> None:
    servers = [serve_in_thread(now=lambda: CLOCK, scale=scale)[0] for _ in range(hosts)]
    urls = [f"http://127.0.0.1:{server.server_address[1]}" for server in servers]
    publishers = list(PUBLISHERS)
    for i in range(sources):
        slug, copy, base = publishers[i % len(publishers)], i // len(publishers), urls[i % hosts]
        edition = Edition(scale.per_day, copy)
        paths = [live_feed_path(slug), archive_feed_path(slug, DAY)] + [a.path for a in articles_for(slug, DAY, edition)]
        for path in filter(None, paths):
            cached_route(f"/x{copy}{path}", base, CLOCK, scale)
    conn.send(urls)
    conn.recv()
    for server in servers:
        server.shutdown()
        server.server_close()


@dataclass
class SizeResult:
    world: World
    fetch: FetchResult
    parse: ParseResult
    load: LoadResult
    runs: tuple[DagRun, DagRun] | None


def bench_size(articles: int, sources: int, hosts: int, root: Path, postgres, airflow: bool) -> SizeResult:
    world = World(sources, articles // sources, hosts, root / f"n{articles}").start()
    try:
        print(f"[{articles}] fetch", file=sys.stderr, flush=True)
        fetch = bench_fetch(world)
        print(f"[{articles}] parse", file=sys.stderr, flush=True)
        parse = bench_parse(world)
        print(f"[{articles}] load", file=sys.stderr, flush=True)
        database = f"bench_load_{articles}"
        postgres.ensure_database(database)
        warehouse.upgrade(postgres.dsn(database))
        load = bench_load(parse.records, postgres.dsn(database))
        postgres.drop_database(database)
        postgres.ensure_database(database)
        warehouse.upgrade(postgres.dsn(database))
        load.merge_profile = profile_merge(parse.records, postgres.dsn(database))
        postgres.drop_database(database)
        parse.records = {}
        runs = None
        if airflow:
            print(f"[{articles}] news_daily through Airflow", file=sys.stderr, flush=True)
            runs = end_to_end(world, postgres)
    finally:
        world.stop()
    return SizeResult(world, fetch, parse, load, runs)


def report(results: list[SizeResult], command: str) -> str:
    """The figures as Markdown: one column per size, then the last size over the first."""
    lines = [f"Command: `{command}`", "",
             f"Machine: {os.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
             f"run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; Python {sys.version.split()[0]}", ""]
    head = ["figure"] + [f"{r.world.articles:,} articles ({r.world.sources} × {r.world.per_day}, "
                         f"{r.world.hosts} hosts)" for r in results]
    if len(results) > 1:
        head.append(f"{results[-1].world.articles:,} / {results[0].world.articles:,}")
    rows: list[tuple[str, list[float | None], str]] = []  # (figure, values, format)

    def add(name: str, values, fmt: str = "{:,.0f}", ratio: bool = True) -> None:
        rows.append((name, list(values), fmt, ratio))

    add("parse, project: pages/s per core", (r.parse.pages / r.parse.project_cpu for r in results))
    add("parse, trafilatura: pages/s per core", (r.parse.pages / r.parse.trafilatura_cpu for r in results))
    add("parse, project ÷ trafilatura throughput", (r.parse.ratio for r in results), "{:.2f}×")
    add("body F1, project", (r.parse.project_f1 for r in results), "{:.3f}")
    add("body F1, trafilatura", (r.parse.trafilatura_f1 for r in results), "{:.3f}")
    add("load path: rows/s", (r.load.rows / r.load.seconds for r in results))
    for step in results[0].load.steps:
        add(f"  load step {step}: s", (r.load.steps[step] for r in results), "{:.2f}")
    add("bare COPY: rows/s", (r.load.rows / r.load.copy_seconds for r in results))
    add("load path time ÷ bare COPY time", (r.load.ratio for r in results), "{:.2f}×")
    add("fetch, one task (one source, one Fetcher): pages/s", (r.fetch.one_task_rate for r in results))
    add("fetch, all sources, hosts at once (get_many): pages/s", (r.fetch.across_hosts_rate for r in results))
    add("politeness simulated: pages per host", (r.fetch.pages_per_host for r in results))
    add("politeness simulated: measured s (delay 0.02 s)", (r.fetch.polite_seconds for r in results), "{:.2f}")
    add("politeness simulated: model s (pages per host − 1) × delay",
        (r.fetch.polite_model for r in results), "{:.2f}")
    add("politeness simulated: one host at a time would take, model s",
        ((r.fetch.sampled - r.world.hosts) * r.fetch.delay for r in results), "{:.2f}")
    add("politeness 1 s per host (a common Crawl-delay), whole world, model: s",
        (r.fetch.busiest_host - 1.0 for r in results), "{:,.0f}")
    if all(r.runs for r in results):
        for n, run_name in enumerate(("first run", "second run (same date)")):
            add(f"news_daily, {run_name}: s", (r.runs[n].seconds for r in results), "{:.1f}")
            for stage in STAGES:
                add(f"  {stage}: span s / sum of task s / task CPU s",
                    (tuple(r.runs[n].stage(stage)[k] for k in ("span", "busy", "cpu")) for r in results),
                    "{0:.1f} / {1:.1f} / {2:.1f}", ratio=False)
        add("second run ÷ first run", (r.runs[1].seconds / r.runs[0].seconds for r in results), "{:.1%}", ratio=False)
        add("articles loaded new, first run", (r.runs[0].loaded_new for r in results))
        add("articles loaded new, second run", (r.runs[1].loaded_new for r in results), ratio=False)
        for stage in STAGES:
            add(f"peak RSS of a {stage} task: MB", (max(run.stage(stage)["rss"] for run in r.runs) / 2**20
                                                  for r in results))
        for kind in ("scheduler", "dag-processor", "api-server", "triggerer", "postgres", "sample servers"):
            add(f"CPU s, first run: {kind}", (r.runs[0].cpu.get(kind, 0.0) for r in results), "{:.1f}")
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for name, values, fmt, ratio in rows:
        cells = [fmt.format(*v) if isinstance(v, tuple) else fmt.format(v) for v in values]
        if len(results) > 1:
            first, last = values[0], values[-1]
            cells.append(f"{last / first:.2f}" if ratio and not isinstance(first, tuple) and first else "")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    last = results[-1]
    lines += ["", f"Where parse_article's time goes ({last.world.articles:,} articles; cProfile over one source of "
              "each publisher, share of the time in a function and what it calls):", ""]
    lines += [f"    {share:6.1%}  {name}" for name, share in last.parse.profile]
    lines += ["", f"Where the merge's time goes ({last.world.articles:,} rows; merge_articles.sql statement by "
              "statement, s):", ""]
    lines += [f"    {seconds:7.2f}  {label}" for label, seconds in last.load.merge_profile.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="articles per world, comma-separated")
    parser.add_argument("--sources", type=int, default=10)
    parser.add_argument("--hosts", type=int, default=5)
    parser.add_argument("--skip-airflow", action="store_true", help="no end-to-end runs (a quick look)")
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    from news_etl import embedded

    logging.basicConfig(level=logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="news-etl-bench-"))
    postgres = embedded.start(root / "pg", databases=())
    results = []
    try:
        for size in (int(n) for n in args.sizes.split(",")):
            results.append(bench_size(size, args.sources, args.hosts, root, postgres, not args.skip_airflow))
    finally:
        embedded.stop(root / "pg")
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    shown = [a for a in (argv or sys.argv[1:]) if a != "--output" and a != str(args.output)]
    text = report(results, "make bench" + (f" BENCH_ARGS='{' '.join(shown)}'" if shown else ""))
    print(text)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
