"""`make bench-queries`: the documented queries on 100,000 generated articles, with their plans.

Starts a throwaway embedded PostgreSQL, loads 100,000 articles of 20 sources over 2024 through the
load path (staging, partitions, merge, versions, watched terms), adds a year of fetch log and
runs, then prints EXPLAIN (ANALYZE, BUFFERS) of every documented query in include/sql/queries/ and
a summary: the indexes each plan uses and its median time over 5 runs. Exits 1 if a query reads a
partition of news.article (or article_mention) with a sequential scan.

    .venv/bin/python tests/bench/bench_queries.py [--articles N] [--keep]
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import psycopg2

from news_etl import embedded, warehouse
from news_etl.articles import content_hash
from news_etl.sample_sites import text
from news_etl.terms import load_watch_terms

# Benchmark data spans months and years; partitions are made for all of it.
BENCH_WINDOW = (datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc))

SOURCES = 20
YEAR_START = datetime(2024, 1, 1, tzinfo=timezone.utc)
SECTIONS = ("World", "Politics", "Economy", "Science", "Sport", "Environment", "Health", "Culture")
WATCHED = ("North Korea fired another missile, officials in Pyongyang said.",
           "The DPRK did not comment on the reports.")
VARIABLES = {  # what each documented query is asked in the benchmark
    "edited_articles": dict(since="2024-12-01", until="2024-12-31"),
    "search_articles": dict(terms="north korea", since="2024-06-01", limit="50"),
    "silent_sources": dict(as_of="2024-12-31T12:00Z", hours="24"),
    "term_mentions_per_day": dict(term="North Korea", month="2024-06-01"),
    "top_stories_by_outlets": dict(since="2024-06-03", until="2024-06-03"),
    "story_firsts": dict(since="2024-06-03", until="2024-06-03"),
    "syndication_share": dict(since="2024-06-01", until="2024-06-30"),
}
FETCH_LOG = """
INSERT INTO news.feed_fetch (run_id, source, kind, url, http_status, outcome, error, elapsed_ms, fetched_at)
SELECT 'bench-' || d::date, s.name, 'feed', 'https://' || s.name || '.example/feed/' || f, 200,
       CASE WHEN random() < 0.02 THEN 'failed' ELSE 'ok' END, NULL, (50 + random() * 400)::int,
       d + interval '6 hours' + f * interval '1 minute'
FROM news.source s, generate_series('2024-01-01'::timestamptz, '2024-12-31', interval '1 day') d,
     generate_series(1, 3) f;
INSERT INTO news.etl_run (run_id, source, day, status, started_at, finished_at)
SELECT 'bench-' || d::date, s.name, d::date, 'success', d + interval '1 day', d + interval '1 day 1 minute'
FROM news.source s, generate_series('2024-01-01'::timestamptz, '2024-12-31', interval '1 day') d;
"""


def generate_articles(count: int, rng: random.Random) -> dict[tuple[str, int], list[dict]]:
    """Staging records per (source, month): sample-publisher prose, 2% mentioning North Korea, 3%
    carrying a headline another source published earlier (stories covered by several outlets). The
    last source goes silent in December."""
    batches: dict[tuple[str, int], list[dict]] = {}
    recent_titles: list[str] = []
    year = int((datetime(2025, 1, 1, tzinfo=timezone.utc) - YEAR_START).total_seconds())
    until_december = int((datetime(2024, 12, 1, tzinfo=timezone.utc) - YEAR_START).total_seconds())
    for n in range(count):
        source = f"bench-{n % SOURCES:02d}"
        span = until_december if n % SOURCES == SOURCES - 1 else year
        published = YEAR_START + timedelta(seconds=rng.randrange(span))
        story = text.write_story(rng, rng.choice(SECTIONS), published.weekday())
        title = rng.choice(recent_titles) if recent_titles and rng.random() < 0.03 else story.title
        paragraphs = list(story.paragraphs) + ([" ".join(WATCHED)] if rng.random() < 0.02 else [])
        body = "\n\n".join(paragraphs)
        url = f"https://{source}.example/{published:%Y/%m/%d}/{n}"
        batches.setdefault((source, published.month), []).append({
            "identity": url, "url": url, "canonical_url": url, "title": title, "published_at": published.isoformat(),
            "authors": [], "language": "en", "body": body, "word_count": len(body.split()),
            "content_hash": content_hash(title, body)})
        recent_titles = (recent_titles + [story.title])[-50:]
    return batches


def load_batch(dsn: str, run_id: str, source: str, day: date, records: list[dict], terms) -> None:
    """What pipeline.load does after the checks, for records staged as passed."""
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        warehouse.stage_records(conn, run_id, source, day, records)
        cur.execute("UPDATE news.stage_article SET dq_status = 'passed' WHERE run_id = %s", (run_id,))
    with warehouse.connect(dsn) as conn:
        warehouse.sync_watch_terms(conn, terms)
    with warehouse.connect(dsn) as conn:
        warehouse.add_article_months(conn, run_id, source, BENCH_WINDOW)
    with warehouse.connect(dsn) as conn:
        warehouse.upsert_source(conn, name=source, title=source, timezone="UTC", has_story_codes=False)
        warehouse.merge_articles(conn, run_id, source)
        warehouse.cluster_stories(conn)


def build(dsn: str, count: int) -> None:
    rng = random.Random(20240101)
    terms = load_watch_terms()
    started = time.monotonic()
    batches = generate_articles(count, rng)
    print(f"generated {count} articles in {time.monotonic() - started:.1f}s", flush=True)
    started = time.monotonic()
    for (source, month), records in sorted(batches.items()):
        last_day = (date(2024, month, 28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        load_batch(dsn, f"bench-{source}-{month:02d}", source, last_day, records, terms)
    # 1% are edited later: a new headline, stated as modified three hours after publication.
    edits: dict[str, list[dict]] = {}
    for (source, _), records in batches.items():
        for r in records:
            if rng.random() < 0.01:
                title = r["title"] + " (updated)"
                updated = datetime.fromisoformat(r["published_at"]) + timedelta(hours=3)
                edits.setdefault(source, []).append(
                    {**r, "title": title, "updated_at": updated.isoformat(),
                     "content_hash": content_hash(title, r["body"])})
    for source, records in sorted(edits.items()):
        load_batch(dsn, f"bench-{source}-edits", source, date(2025, 1, 1), records, terms)
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(FETCH_LOG)
        cur.execute("SELECT (SELECT count(*) FROM news.article), (SELECT count(*) FROM news.article_version), "
                    "(SELECT count(*) FROM news.article_mention), (SELECT count(*) FROM news.feed_fetch)")
        articles, versions, mentions, fetches = cur.fetchone()
    # What autovacuum does on a live warehouse: statistics, and GIN's pending entries merged into
    # the index (until then the planner rightly prices the full-text index higher).
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    conn.close()
    print(f"loaded {articles} articles ({versions} versions, {mentions} term mentions, {fetches} fetches) in "
          f"{time.monotonic() - started:.1f}s through the load path\n", flush=True)


def explain(dsn: str, name: str) -> dict:
    sql = warehouse.query_sql(name)
    variables = VARIABLES[name]
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, variables)
        plan = "\n".join(row[0] for row in cur.fetchall())
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            cur.execute(sql, variables)
            found = cur.fetchall()
            timings.append((time.perf_counter() - started) * 1000)
        # A partition's index is named after its table: count it under the index of news.article.
        cur.execute("SELECT c.relname, p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "JOIN pg_class p ON p.oid = i.inhparent WHERE c.relkind = 'i'")
        parent = dict(cur.fetchall())
    used = re.findall(r"(?:Index(?: Only)? Scan(?: Backward)? using|Bitmap Index Scan on) (\w+)", plan)
    partitions = Counter(parent.get(name, name) for name in set(used))
    indexes = [f"{name} ({n} partitions)" if name in parent.values() else name
               for name, n in sorted(partitions.items())]
    seq_scans = sorted(set(re.findall(r"Seq Scan on (article_\d{4}_\d\d|article_mention)\b", plan)))
    return dict(name=name, plan=plan, indexes=indexes, seq_scans=seq_scans, rows=len(found),
                median_ms=statistics.median(timings))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database and print its DSN")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="news-etl-bench-"))
    pg = embedded.start(root / "data", databases=("bench",))
    dsn = pg.dsn("bench")
    try:
        warehouse.upgrade(dsn)
        build(dsn, args.articles)
        results = [explain(dsn, name) for name in warehouse.query_names()]
        for r in results:
            print(f"=== {r['name']}  {VARIABLES[r['name']]}\n{r['plan']}\n")
        print(f"{'query':<24} {'rows':>5} {'median ms':>10}  indexes used")
        for r in results:
            print(f"{r['name']:<24} {r['rows']:>5} {r['median_ms']:>10.2f}  {', '.join(r['indexes'])}")
        bad = [r for r in results if r["seq_scans"]]
        for r in bad:
            print(f"SEQUENTIAL SCAN in {r['name']}: {', '.join(r['seq_scans'])}")
        if args.keep:
            print(f"\nthe database stays: psql \"{dsn}\"")
        return 1 if bad else 0
    finally:
        if not args.keep:
            embedded.stop(root / "data")
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
