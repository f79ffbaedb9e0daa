"""`make bench-checks`: what the quality gate costs per source when one process checks many, as a
shard's check task does (pipeline.check in a loop): each source's check time with GX set up once
per process (the first source pays for importing GX and making its context), beside the same
checks with a fresh context for every source (GX set up each time), and the set-up alone, made
and reused.

The sample publishers' sources for one day (a real embedded PostgreSQL, the sample server on
127.0.0.1 with its clock pinned), checked ROUNDS times over, alternating the two ways.

Usage: .venv/bin/python tests/bench/bench_checks.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

DAY, NOW = date(2024, 3, 1), datetime(2024, 3, 4, 12, tzinfo=timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="bench-checks-"))
    from news_etl import embedded

    pg = embedded.start(root / "pg", databases=("bench",))
    server = None
    try:
        from news_etl.sample_sites.server import serve_in_thread

        server, url = serve_in_thread(now=lambda: NOW)
        os.environ.update(NEWS_SAMPLE_URL=url, NEWS_ETL_STATE_DIR=str(root / "state"), NEWS_ETL_RETRIES="0",
                          NEWS_ETL_ALLOW_HOSTS="127.0.0.1")
        t0 = time.perf_counter()
        from news_etl import pipeline, quality, warehouse
        from news_etl.settings import Settings
        from news_etl.sources import DEFAULT_SOURCES_DIR, load_sources
        imported = time.perf_counter() - t0

        dsn = pg.dsn("bench")
        warehouse.upgrade(dsn)
        settings = Settings.from_env()
        sources = load_sources(DEFAULT_SOURCES_DIR)
        run = pipeline.Run(run_id="bench", day=DAY, dsn=dsn, settings=settings)
        for source in sources:
            pipeline.extract(source, run, now=NOW)
            pipeline.transform(source, run)

        t0 = time.perf_counter()
        import great_expectations  # noqa: F401 - what the first check of a process pays
        gx_import = time.perf_counter() - t0
        once, each = [], []  # per round: each source's check time
        for _ in range(args.rounds):
            quality._validators.clear()
            once.append(_check_all(pipeline, sources, run))
            each.append(_check_all(pipeline, sources, run, fresh=quality._validators.clear))
        url = warehouse.sqlalchemy_url(warehouse.session_dsn(dsn))
        quality._validators.clear()
        t0 = time.perf_counter()
        quality._validator(url, settings.data_docs_root)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        quality._validator(url, settings.data_docs_root)
        warm = time.perf_counter() - t0
        docs = len(list((settings.data_docs_root / "results").rglob("*.json")))
        print(f"{len(sources)} sources, {args.rounds} rounds; importing the pipeline {imported:.1f}s, GX {gx_import:.1f}s "
              f"(once per process); Data Docs site: {docs} validations, "
              f"{_size(settings.data_docs_root) / 1e6:.1f} MB")
        first = statistics.median(r[0] for r in once)
        later_once = statistics.median(t for r in once for t in r[1:])
        later_each = statistics.median(t for r in each for t in r[1:])
        print(f"check of the first source (GX context, data source):  {first:.2f}s")
        print(f"check of each later source, GX set up once:            {later_once:.2f}s (median)")
        print(f"check of each later source, GX set up for each:        {later_each:.2f}s (median)")
        print(f"GX set-up saved per source beyond the first:           {later_each - later_once:.2f}s")
        print(f"GX set-up alone (context and data source): {cold:.3f}s made, {warm * 1000:.3f} ms reused")
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        embedded.stop(root / "pg")
        shutil.rmtree(root, ignore_errors=True)


def _check_all(pipeline, sources, run, fresh=None) -> list[float]:
    times = []
    for source in sources:
        if fresh:
            fresh()
        t0 = time.perf_counter()
        try:
            pipeline.check(source, run, now=NOW)
        except pipeline.QualityGateError:
            pass  # a blocked source was checked all the same
        times.append(time.perf_counter() - t0)
    return times


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


if __name__ == "__main__":
    main()
