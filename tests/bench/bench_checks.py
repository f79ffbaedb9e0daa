"""`make bench-checks`: what the quality gate costs per source beyond the first when one process
checks many, as a shard's check task does (issue 17's target: at most 0.2 s of task time).

A scaled world of the sample publishers (bench_pipeline.World: S sources, copies of the six
publishers, N stories of the day each, on one local server: one host, so one shard) is extracted
and transformed untimed, then checked by shards.run_stage("check"), the check task's own code, in
this process, ROUNDS times over under new run ids of the same day (the Data Docs site keeps every
round's validations, as it keeps every day's). Each round is two check tasks: one of the first
source alone (importing GX and making its context in the first round), then one of all S. Per
round: both tasks' times, the task's time per source beyond the first ((all - one) / (S - 1);
also in CPU seconds of this process, which a busy machine inflates less, PostgreSQL's own left
out), and the site's size.

Usage: .venv/bin/python tests/bench/bench_checks.py [--sources 36] [--per-day 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_pipeline's World

from bench_pipeline import DAY, World  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=36)
    parser.add_argument("--per-day", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="bench-checks-"))
    from news_etl import embedded

    pg = embedded.start(root / "pg", databases=("bench",))
    world = World(args.sources, args.per_day, 1, root / "world").start()
    try:
        os.environ.update(world.env(), NEWS_ETL_STATE_DIR=str(root / "state"), NEWS_ETL_RETRIES="0")
        from news_etl import pipeline, shards, warehouse
        from news_etl.settings import Settings

        dsn = pg.dsn("bench")
        warehouse.upgrade(dsn)
        settings = Settings.from_env()
        names = [world.name(i) for i in range(args.sources)]
        check, times, cpu = pipeline.check, [], []

        def timed_check(*a, **kw):  # each source's check, as run_stage calls it
            started, cpu_started = time.perf_counter(), time.process_time()
            try:
                return check(*a, **kw)
            finally:
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)

        pipeline.check = timed_check
        print(f"{args.sources} sources x {args.per_day} stories of {DAY}, one shard; {args.rounds} rounds of two check tasks "
              f"in one process (load average {os.getloadavg()[0]:.1f})")
        print("round | task of 1 source, s | task of all, s | task s per source beyond the first ((all - 1) / "
              "(S - 1)) | the same in CPU s of this process | validations in the site, MB")
        for r in range(args.rounds):
            # A check task of one source, then one of all S, each under a run id of its own: the
            # difference is what the S - 1 more sources cost the task.
            tasks = {}
            for label, shard in (("one", names[:1]), ("all", names)):
                run = pipeline.Run(run_id=f"bench-{r}-{label}", day=DAY, dsn=dsn, settings=settings)
                for stage in ("extract", "transform"):
                    done = shards.run_stage(stage, shard, run, 0)
                    assert len(done.completed) == len(shard), (stage, done.failed)
                times.clear()
                cpu.clear()
                started, cpu_started = time.perf_counter(), time.process_time()
                done = shards.run_stage("check", shard, run, 0)
                tasks[label] = time.perf_counter() - started, time.process_time() - cpu_started
                assert not done.failed and len(times) == len(shard), done.failed
            (one, one_cpu), (task, task_cpu) = tasks["one"], tasks["all"]
            validations = len(list((settings.data_docs_root / "results").rglob("*.json")))
            print(f"{r + 1} | {one:.2f} | {task:.1f} | {(task - one) / (args.sources - 1):.3f} | "
                  f"{(task_cpu - one_cpu) / (args.sources - 1):.3f} | {validations}, "
                  f"{_size(settings.data_docs_root) / 1e6:.1f}")
    finally:
        world.stop()
        embedded.stop(root / "pg")
        shutil.rmtree(root, ignore_errors=True)


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


if __name__ == "__main__":
    main()
