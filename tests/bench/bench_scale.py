"""`make bench-scale`: news_daily with thousands of sources (issue 17), through a real Airflow.

A scaled world of the sample publishers (bench_pipeline.World: S sources × N stories of the day on
H local servers, which stand for H hosts) is collected by two runs of news_daily on a fresh
`make airflow` (LocalExecutor, the news_fetch and news_check pools at their defaults), and measured:

- DAG parse time: news_daily.py parsed in a fresh process (as the dag-processor does), with the
  6 sample sources, with the world's S and with each --parse-only count of source files (no run);
- the run's task instances (target: at most 4 × shards + 3), its time and each stage's (span,
  summed task time, task CPU), the peak RSS of every kind of task (target: 600 MB), the CPU of the
  scheduler and dag-processor, and a second run of the same day (target: 10% of the first);
- the cost of checks per source beyond the first, in one process, over the first run's staged
  rows: a check task of one source, then one of 50, as shards.run_stage runs them (target: 0.2 s);
- the warehouse's size after the runs.

`--stages-only N`: no Airflow. One shard of N sources on one host (what a shard task gets), its
plan, extract, transform, check and load (the shards module's functions a task calls) run in this
process, then a second run of the day, each stage timed (wall and CPU, per source and per article);
`--profile` adds each stage's functions by cumulative time (cProfile).

Usage: nice .venv/bin/python tests/bench/bench_scale.py [--sources 500] [--per-day 20] [--hosts 50]
       [--parse-only 5000] [--skip-airflow] [--output FILE] [--keep]
       nice .venv/bin/python tests/bench/bench_scale.py --stages-only 100 [--per-day 20] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import psutil

from news_etl import PROJECT_DIR, warehouse
from news_etl.sources import DEFAULT_SOURCES_DIR

from bench_pipeline import DAY, STAGES, World, bytecode_cache, postmaster_pid, run_news_daily

_PARSE = """
import json, os, sys, time
from airflow.dag_processing.dagbag import DagBag
import news_etl.pipeline, news_etl.shards  # imported before the clock, as the dag-processor's pre-import does
cpu, wall = time.process_time(), time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                  "errors": list(bag.import_errors.values()), "dags": sorted(bag.dag_ids)}))
"""

_CHECKS = """
import json, sys, time
from datetime import date, datetime, timezone
from news_etl import pipeline, shards
from news_etl.settings import Settings
dsn, run_id, day, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
run = pipeline.Run(run_id=run_id, day=date.fromisoformat(day), dsn=dsn, settings=Settings.from_env())
sources, _ = shards.load_shard_sources(names)

def check_task(shard):  # what a check task does with its shard (shards.run_stage's check)
    started, now = time.perf_counter(), datetime.now(timezone.utc)
    validated = pipeline.check_together([sources[n] for n in shard], run, now)
    for name in shard:
        try:
            pipeline.check(sources[name], run, now=now, alone=False, validated=validated.get(name))
        except Exception as exc:
            print(f"{name}: {exc}", file=sys.stderr)
    pipeline.finish_checks(run)
    return time.perf_counter() - started

print(json.dumps({"first": check_task(names[:1]), "one": check_task(names[:1]), "all": check_task(names)}))
"""


def parse_time(sources_dir: Path, env: dict[str, str]) -> dict:
    """news_daily.py parsed once in a fresh process with NEWS_ETL_SOURCES=sources_dir."""
    out = subprocess.run([sys.executable, "-c", _PARSE, str(PROJECT_DIR / "dags" / "news_daily.py")],
                         env={**env, "NEWS_ETL_SOURCES": str(sources_dir)}, capture_output=True, text=True,
                         timeout=600)
    if out.returncode:
        raise RuntimeError(f"parsing news_daily.py with {sources_dir} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["dags"] == ["news_daily"] and not result["errors"], result
    return result


def source_files(world: World, count: int) -> Path:
    """`count` source files of the world's kind (no server needed: they are only parsed)."""
    files = World(count, world.per_day, world.hosts, world.root / f"parse-{count}",
                  urls=world.urls or [f"http://127.0.0.1:{9000 + h}" for h in range(world.hosts)])
    files.write_sources()
    return files.sources_dir


def check_costs(airflow, world: World, run_id: str, count: int = 50) -> dict[str, float]:
    """Seconds of a check task of one source (GX imported and set up: "first"), of one source again
    ("one") and of `count` sources ("all"), in turn in one fresh process."""
    names = [world.name(i) for i in range(count)]
    out = subprocess.run([sys.executable, "-c", _CHECKS, airflow.dsn, run_id, DAY.isoformat(), ",".join(names)],
                         env={**os.environ, **airflow.env, "NEWS_ETL_STATE_DIR": str(world.root / "checks")},
                         capture_output=True, text=True, timeout=1800, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]), count=count)


def end_to_end(world: World, postgres) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the live Airflow fixture's helpers
    from live_airflow import local_airflow

    (world.root / "airflow").mkdir(exist_ok=True)
    bytecode_cache()
    with local_airflow(world.root / "airflow", postgres, world.urls[0], extra_env=world.env()) as airflow:
        airflow.request("PATCH", "/api/v2/dags/news_daily", {"is_paused": False})
        monitor = dict(airflow_home=str(world.root / "airflow" / "home"), postmaster=postmaster_pid(postgres),
                       servers=world.server_pid, dsn=airflow.dsn)
        first = run_news_daily(airflow, "scale-first", monitor, timeout=7200)
        second = run_news_daily(airflow, "scale-second", monitor, timeout=3600)
        with warehouse.connect(airflow.dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_database_size(current_database()), (SELECT count(*) FROM news.article), "
                        "(SELECT count(*) FROM news.etl_run WHERE run_id = 'scale-first' AND status = 'success')")
            size, articles, succeeded = cur.fetchone()
        checks = check_costs(airflow, world, "scale-first")
    return dict(first=first, second=second, size=size, articles=articles, succeeded=succeeded, checks=checks)


def report(world: World, parses: dict[int, dict], runs: dict | None, command: str) -> str:
    lines = [f"Command: `{command}`", "",
             f"Machine: {os.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
             f"run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; Python {sys.version.split()[0]}", "",
             "| figure | value |", "|---|---|"]
    for count, p in sorted(parses.items()):
        lines.append(f"| DAG parse, {count:,} source files: wall s / CPU s | {p['wall']:.2f} / {p['cpu']:.2f} |")
    if runs:
        first, second = runs["first"], runs["second"]
        shards = sum(1 for t in first.tasks if t["stage"] == "extract")
        lines += [
            f"| world | {world.sources:,} sources × {world.per_day} articles = {world.articles:,}, {world.hosts} hosts |",
            f"| shards (extract task instances) | {shards} |",
            f"| task instances, first run (target ≤ 4 × shards + 3 = {4 * shards + 3}) | {len(first.tasks)} |",
            f"| news_daily, first run: state, s | {first.state}, {first.seconds:.1f} |",
            f"| sources loaded (status success), articles in the warehouse | {runs['succeeded']:,}, {runs['articles']:,} |",
        ]
        for stage in STAGES:
            s = first.stage(stage)
            lines.append(f"|   {stage}: span s / sum of task s / task CPU s / peak RSS MB | {s['span']:.1f} / "
                         f"{s['busy']:.1f} / {s['cpu']:.1f} / {s['rss'] / 2**20:.0f} |")
        lines += [f"| news_daily, second run (same day): state, s | {second.state}, {second.seconds:.1f} |",
                  f"| second run ÷ first run | {second.seconds / first.seconds:.1%} |"]
        for kind in ("scheduler", "dag-processor", "api-server", "triggerer", "postgres", "sample servers"):
            lines.append(f"| CPU s, first run: {kind} | {first.cpu.get(kind, 0.0):.1f} |")
        sessions = sorted((k for k in first.cpu if k.startswith("postgres (")), key=lambda k: -first.cpu[k])
        lines.append("| CPU s, first run: postgres by session | "
                     + " / ".join(f"{k[len('postgres ('):-1]} {first.cpu[k]:.1f}" for k in sessions) + " |")
        checks = runs["checks"]
        beyond = (checks["all"] - checks["one"]) / (checks["count"] - 1)
        lines += [f"| check tasks in one process: 1 source (GX set up) s / 1 source s / {checks['count']} sources s "
                  f"| {checks['first']:.2f} / {checks['one']:.2f} / {checks['all']:.2f} |",
                  f"| checks: task s per source beyond the first | {beyond:.3f} |",
                  f"| warehouse size after both runs: MB | {runs['size'] / 2**20:.0f} |"]
    return "\n".join(lines) + "\n"


def time_stages(world: World, dsn: str, run_id: str, profile: bool) -> list[dict]:
    """One run of the day in this process: plan (shards.plan_shards) and each stage of every shard
    (shards.run_stage), as the DAG's tasks call them; wall and CPU seconds of each, and the top of
    its profile when asked."""
    from news_etl import pipeline, shards
    from news_etl.settings import Settings

    run = pipeline.Run(run_id=run_id, day=DAY, dsn=dsn, settings=Settings.from_env())
    rows, planned = [], []

    def timed(stage: str, call) -> None:
        profiler = cProfile.Profile() if profile else None
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        try:
            call()
        finally:
            if profiler:
                profiler.disable()
        row = dict(stage=stage, wall=time.perf_counter() - wall, cpu=time.process_time() - cpu)
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
            row["profile"] = out.getvalue()
        rows.append(row)
        print(f"{run_id} {stage}: {row['wall']:.1f} s", row.get("profile", ""), file=sys.stderr, flush=True)

    timed("plan", lambda: planned.extend(shards.plan_shards(run)))
    for stage in STAGES[1:5]:
        def each_shard(stage=stage):
            for names in planned:
                outcome = shards.run_stage(stage, names, run, 0)
                if outcome.failed or outcome.blocked:
                    raise RuntimeError(f"{stage}: {outcome.error()}")
        timed(stage, each_shard)
    return rows


def stages_only(world: World, postgres, profile: bool) -> dict:
    """Two runs of the same day of one shard (the world on one host), stage by stage, in-process.
    As in a task process: modules compiled beforehand, Airflow and the DAG's imports loaded before
    the clock (Great Expectations and datasketch are imported by the stages that need them)."""
    bytecode_cache()
    sys.dont_write_bytecode, sys.pycache_prefix = False, os.environ["PYTHONPYCACHEPREFIX"]
    import airflow.sdk  # noqa: F401  (a task process has it; the archive's ObjectStoragePath needs it)
    from news_etl import pipeline

    dsn = postgres.dsn("news")
    postgres.ensure_database("news")
    os.environ.update(world.env(), NEWS_ETL_STATE_DIR=str(world.root / "state"), NEWS_ETL_OBEY_ROBOTS="false")
    pipeline.migrate(dsn)
    first = time_stages(world, dsn, "stages-first", profile)
    second = time_stages(world, dsn, "stages-second", profile)
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM news.article")
        articles = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM news.etl_run WHERE run_id = 'stages-first' AND status = 'success'")
        succeeded = cur.fetchone()[0]
    return dict(first=first, second=second, articles=articles, succeeded=succeeded)


def stages_report(world: World, result: dict, command: str) -> str:
    n, per = world.sources, world.articles
    lines = [f"Command: `{command}`", "",
             f"Machine: {os.cpu_count()} CPUs; run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; load average "
             f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; Python {sys.version.split()[0]}", "",
             f"One shard in one process: {n} sources × {world.per_day} articles = {per:,} on one host; "
             f"{result['succeeded']} sources loaded, {result['articles']:,} articles in the warehouse.", "",
             "| run | stage | wall s | CPU s | wall s per source | wall ms per article |", "|---|---|---|---|---|---|"]
    for run in ("first", "second"):
        rows = result[run]
        for row in rows + [dict(stage="all", wall=sum(r["wall"] for r in rows), cpu=sum(r["cpu"] for r in rows))]:
            lines.append(f"| {run} | {row['stage']} | {row['wall']:.1f} | {row['cpu']:.1f} | "
                         f"{row['wall'] / n:.3f} | {row['wall'] / per * 1000:.1f} |")
    first, second = (sum(r["wall"] for r in result[k]) for k in ("first", "second"))
    lines += ["", f"Second run ÷ first run: {second / first:.1%}"]
    for run in ("first", "second"):
        for row in result[run]:
            if "profile" in row:
                lines += ["", f"### {run} run, {row['stage']}: cProfile by cumulative time", "```",
                          row["profile"].strip(), "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--per-day", type=int, default=20, help="articles per source on the day")
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--parse-only", default="5000", help="source counts whose DAG parse alone is timed")
    parser.add_argument("--skip-airflow", action="store_true", help="only the parse times")
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--stages-only", type=int, metavar="N",
                        help="no Airflow: one shard of N sources, its stages in this process, twice")
    parser.add_argument("--profile", action="store_true", help="with --stages-only: cProfile each stage")
    args = parser.parse_args(argv)
    from news_etl import embedded

    logging.basicConfig(level=logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="news-etl-bench-scale-"))
    if args.stages_only:
        world = World(args.stages_only, args.per_day, 1, root / "world")
        postgres = embedded.start(root / "pg", databases=())
        try:
            world.start()
            try:
                result = stages_only(world, postgres, args.profile)
            finally:
                world.stop()
        finally:
            embedded.stop(root / "pg")
            if not args.keep:
                shutil.rmtree(root, ignore_errors=True)
        shown = [a for a in (argv or sys.argv[1:]) if a != "--output" and a != str(args.output)]
        text = stages_report(world, result, "nice .venv/bin/python tests/bench/bench_scale.py " + " ".join(shown))
        print(text)
        if args.output:
            args.output.write_text(text, encoding="utf-8")
        return 0
    world = World(args.sources, args.per_day, args.hosts, root / "world")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWS_"))}
    env.update(AIRFLOW_HOME=str(root / "parse-home"), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    postgres = None
    try:
        parses = {6: parse_time(DEFAULT_SOURCES_DIR, env)}
        for count in sorted({args.sources, *(int(n) for n in args.parse_only.split(",") if n)}):
            print(f"parse with {count} sources", file=sys.stderr, flush=True)
            parses[count] = parse_time(source_files(world, count), env)
        runs = None
        if not args.skip_airflow:
            postgres = embedded.start(root / "pg", databases=())
            world.start()
            try:
                print(f"news_daily for {world.sources} sources × {world.per_day}", file=sys.stderr, flush=True)
                started = time.monotonic()
                runs = end_to_end(world, postgres)
                print(f"done in {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
            finally:
                world.stop()
    finally:
        if postgres is not None:
            embedded.stop(root / "pg")
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    shown = [a for a in (argv or sys.argv[1:]) if a != "--output" and a != str(args.output)]
    text = report(world, parses, runs, "make bench-scale" + (f" BENCH_ARGS='{' '.join(shown)}'" if shown else ""))
    print(text)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
