"""Faults of a shard (news_etl.shards): several sources in one task, where one source's fault must
stay that source's.

Scenarios: a shard of two sources on one host, one of which has lost its feed: the other loads
every story, the lost one is recorded as failed, and a retry of the shard's extract asks again for
the lost feed only (the source that completed is skipped).
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from config_faults import BACKTRACKING_SOURCE, _settings
from model import Outcome, Scenario
from server import FaultServer, article_page, rss

from news_etl import pipeline, shards, warehouse

DAY = date(2024, 3, 1)
CODES = ("3000001", "3000002", "3000003")
# The rule-regex scenario's source file: on these pages its story-code regex reads "Code: …" at once.
SOURCE = BACKTRACKING_SOURCE


def _one_source_of_the_shard_down(work_dir: Path, dsn: str) -> Outcome:
    server = FaultServer({})
    directory = work_dir / "sources"
    directory.mkdir(parents=True, exist_ok=True)
    try:
        pages = [f"/shard/steady/{code}" for code in CODES]
        for path, code in zip(pages, CODES):
            server.good_pages[path] = article_page(f"Steady story {code}", code)
        server.feeds["/shard/steady.xml"] = (rss(server.base, pages), None)
        for name, feed in (("steady-wire", "/shard/steady.xml"), ("lost-wire", "/shard/lost.xml")):
            (directory / f"{name}.yaml").write_text(SOURCE.format(name=name, feed=f"{server.base}{feed}"))
        run = pipeline.Run(run_id="faults-shard", day=DAY, dsn=dsn, settings=_settings(work_dir))
        shard = ["lost-wire", "steady-wire"]
        started = time.monotonic()
        first = shards.run_stage("extract", shard, run, 0, directory=directory)
        retry = shards.run_stage("extract", shard, run, 0, directory=directory)  # Airflow's retry of the task
        for stage in ("transform", "check", "load"):
            shards.run_stage(stage, shard, run, 0, directory=directory)
        seconds = time.monotonic() - started
        hits = dict(server.hits)
    finally:
        server.close()
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT a.story_code FROM news.article a JOIN news.source s USING (source_id) WHERE s.name = %s",
                    ("steady-wire",))
        loaded = [code for (code,) in cur.fetchall()]
    status = {r["source"]: r["status"] for r in pipeline.run_summary(dsn, "faults-shard")}
    ok = (sorted(loaded) == sorted(CODES) and status == {"lost-wire": "failed", "steady-wire": "success"}
          and list(first.failed) == list(retry.failed) == ["lost-wire"] and retry.completed == ["steady-wire"]
          and hits.get("/shard/lost.xml") == 2 and hits.get("/shard/steady.xml") == 1)
    return Outcome(fault="shard-one-source-down", fetch_outcome="source failed alone" if ok else "unexpected",
                   reason=first.failed.get("lost-wire", ""), requests=hits.get("/shard/lost.xml", 0),
                   loaded=len(loaded), ok=ok, rows_lost=len(set(CODES) - set(loaded)),
                   rows_duplicated=len(loaded) - len(set(loaded)), bystander_loaded=len(loaded), seconds=seconds,
                   detail=f"statuses {status}; feed requests {hits}")


FAULTS = []
SCENARIOS = [
    Scenario("shard-one-source-down", "per-source isolation in a shard",
             "the other source of the shard loads every story; the lost one fails alone and its retry "
             "asks for its feed only", _one_source_of_the_shard_down),
]
