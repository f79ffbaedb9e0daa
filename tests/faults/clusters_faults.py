"""Fault scenarios of story clusters and URL identity: two loads of one story at once, one story
under two spellings of its URL, and bodies no signature can be made of. Each runs the real load
path (stage, pipeline.load) on its own fresh warehouse."""

from __future__ import annotations

import threading
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import psycopg2

from model import Outcome, Scenario
from news_etl import pipeline, warehouse
from news_etl.articles import content_hash
from news_etl.settings import Settings
from news_etl.sources import load_source
from news_etl.urls import normalize_url

DAY = date(2024, 3, 5)
WIRE = ("The harbour council voted on Tuesday evening to raise the fees paid by container ships by a fifth "
        "from the first of May, after a debate that lasted four hours. The chair said the port had to pay for "
        "the dredging of the northern channel, which silted up again after the winter storms. Shipping lines "
        "warned that the rise would push cargo to the rival terminal along the coast.")


def _load(work_dir: Path, dsn: str, source: str, records: list[dict]) -> dict:
    path = work_dir / f"{source}.yaml"
    path.write_text(f"name: {source}\ntimezone: UTC\nfeeds: [http://127.0.0.1:9/feed.xml]\n", encoding="utf-8")
    run_id = f"fault-{uuid.uuid4().hex[:8]}"
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        warehouse.stage_records(conn, run_id, source, DAY, records)
        cur.execute("UPDATE news.stage_article SET dq_status = 'passed' WHERE run_id = %s", (run_id,))
    return pipeline.load(load_source(path), pipeline.Run(run_id=run_id, day=DAY, dsn=dsn, settings=Settings.from_env()))


def _record(url: str, title: str, body: str, hour: int) -> dict:
    return {"identity": url, "url": url, "canonical_url": url, "title": title, "authors": [], "language": "en",
            "published_at": datetime(2024, 3, 5, hour, tzinfo=timezone.utc).isoformat(), "body": body,
            "word_count": len(body.split()), "content_hash": content_hash(title, body)}


def _count(dsn: str, sql: str) -> int:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


def concurrent_loads_of_one_story(work_dir: Path, dsn: str) -> Outcome:
    _load(work_dir, dsn, "agency", [])
    _load(work_dir, dsn, "gazette", [])
    barrier, errors = threading.Barrier(2), []

    def go(source: str, title: str, hour: int) -> None:
        try:
            barrier.wait(timeout=10)
            _load(work_dir, dsn, source, [_record(f"https://{source}.example/fees", title, WIRE, hour)])
        except Exception as exc:  # noqa: BLE001 - the outcome reports it
            errors.append(repr(exc))

    threads = [threading.Thread(target=go, args=a) for a in (("agency", "Fees up", 6), ("gazette", "Ships pay more", 7))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    clusters = _count(dsn, "SELECT count(*) FROM news.story_cluster")
    members = _count(dsn, "SELECT count(*) FROM news.story_member")
    return Outcome("concurrent loads of one story", loaded=members, rows_lost=2 - members,
                   rows_duplicated=max(0, clusters - 1), ok=not errors and clusters == 1 and members == 2,
                   detail=f"{clusters} cluster(s) of {members} articles; errors: {errors or 'none'}")


def one_story_two_url_spellings(work_dir: Path, dsn: str) -> Outcome:
    raw, encoded = "https://wire.example/news/1/خبر", "https://wire.example/news/1/%d8%ae%d8%a8%d8%b1"
    first = _load(work_dir, dsn, "wire", [_record(normalize_url(raw), "Fees up", WIRE, 6)])
    again = _load(work_dir, dsn, "wire", [_record(normalize_url(encoded), "Fees up", WIRE, 6)])
    articles = _count(dsn, "SELECT count(*) FROM news.article")
    return Outcome("one story, two URL spellings", loaded=articles, rows_lost=1 - min(articles, 1),
                   rows_duplicated=max(0, articles - 1),
                   ok=(first["loaded_new"], again["loaded_new"], articles) == (1, 0, 1),
                   detail=f"{articles} article(s) for the raw and the percent-encoded slug")


def bodies_without_a_signature(work_dir: Path, dsn: str) -> Outcome:
    bodies = ["", "   \n\t ", "— … ؟ !!", "word " * 5, "\u200f\u200e" * 50, "خبر " * 20000]
    _load(work_dir, dsn, "odd", [_record(f"https://odd.example/{i}", f"Odd {i}", b, 6) for i, b in enumerate(bodies)])
    members = _count(dsn, "SELECT count(*) FROM news.story_member")
    clusters = _count(dsn, "SELECT count(*) FROM news.story_cluster WHERE articles = 1")
    return Outcome("bodies without a signature", loaded=members, rows_lost=len(bodies) - members,
                   ok=members == clusters == len(bodies),
                   detail=f"{members} of {len(bodies)} articles each a story of its own")


SCENARIOS = [
    Scenario("concurrent loads of one story", "concurrency", "one cluster of both articles, no error",
             concurrent_loads_of_one_story),
    Scenario("one story, two URL spellings", "identity", "one article: the second spelling loads nothing new",
             one_story_two_url_spellings),
    Scenario("bodies without a signature", "hostile input",
             "empty, blank, punctuation-only, short and huge repetitive bodies: each its own story, none lost",
             bodies_without_a_signature),
]
