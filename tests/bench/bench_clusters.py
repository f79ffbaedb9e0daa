"""`make bench-clusters`: story clusters on 1,000 generated stories carried by 1 to 5 outlets each.

Starts a throwaway embedded PostgreSQL and loads the articles through the load path (staging,
partitions, merge, then warehouse.cluster_stories), one batch per outlet and day, days in order,
as daily runs would. Each story is written in the sample publishers' words (sample_sites.text:
its section's and the general sentences, filled with the story's own places, people and numbers,
so stories of one section share whole sentence templates), and each outlet that carries it
after the first edits it: a headline of its own, 15% of the sentences cut, half the time a
dateline added at the top, half the time a line of its own at the end, a third of the time a
paragraph dropped, published up to 48 hours later.

Prints pairwise precision and recall of the clusters against the generator's truth (a pair is two
articles in one cluster; true when they carry one story) and the time cluster_stories takes per
article beside the merge it follows. Exits 1 when precision < 0.98, recall < 0.95 or clustering
takes more than 2 ms an article.

    .venv/bin/python tests/bench/bench_clusters.py [--stories N] [--seed S]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from itertools import combinations
from pathlib import Path

from news_etl import embedded, stories, warehouse
from news_etl.articles import content_hash
from news_etl.sample_sites import text

OUTLETS = [f"outlet-{i:02d}" for i in range(8)]
START = datetime(2024, 3, 1, tzinfo=timezone.utc)
DAYS = 4  # a busy news week: ~100 articles per outlet and day, all within the window of each other
WINDOW = (START, START + timedelta(days=DAYS + 2))  # the checks' window: every copy is published in it
TARGETS = dict(precision=0.98, recall=0.95, ms_per_article=2.0)
CLOSINGS = ("This story was first published by a partner agency.", "Read more on this in our weekend edition.",
            "Our correspondent contributed to this report.", "Follow our live coverage for updates.")


def write_story(rng: random.Random) -> tuple[str, list[list[str]], datetime]:
    """A headline, paragraphs (lists of sentences) and the first publication time of one story."""
    section = rng.choice(sorted(text.SENTENCES))
    published = START + timedelta(seconds=rng.randrange(DAYS * 86400))
    cast = text._cast(rng, published.weekday())  # noqa: SLF001 - the generator's own cast
    filled = [text._capitalize(s.format(**cast)) for s in text.SENTENCES[section] + text.GENERAL_SENTENCES]  # noqa: SLF001
    sentences = rng.sample(filled, rng.randint(8, 12)) + [rng.choice(text.QUOTES).format(**cast)]
    rng.shuffle(sentences)
    cuts = sorted(rng.sample(range(1, len(sentences)), rng.randint(3, 6)))
    paragraphs = [sentences[a:b] for a, b in zip([0] + cuts, cuts + [len(sentences)])]
    return rng.choice(text.HEADLINES[section]).format(**cast), paragraphs, published


def outlet_copy(rng: random.Random, paragraphs: list[list[str]], published: datetime) -> tuple[list[str], datetime]:
    """An outlet's edit of a story: sentences cut, a dateline and a closing line added, a paragraph dropped."""
    kept = [list(p) for p in paragraphs]
    if len(kept) > 3 and rng.random() < 1 / 3:
        kept.pop(rng.randrange(len(kept)))
    sentences = [(i, j) for i, p in enumerate(kept) for j in range(len(p))]
    for i, j in sorted(rng.sample(sentences, round(0.15 * len(sentences))), reverse=True):
        del kept[i][j]
    body = [" ".join(p) for p in kept if p]
    if rng.random() < 0.5:
        body[0] = f"{rng.choice(text.CITIES)}, {published:%A} (agencies). {body[0]}"
    if rng.random() < 0.5:
        body.append(rng.choice(CLOSINGS))
    return body, published + timedelta(seconds=rng.randrange(48 * 3600))


def generate(count: int, seed: int) -> tuple[dict[tuple[str, date], list[dict]], dict[str, int]]:
    """Staging records per (outlet, day), and the story each URL carries."""
    rng = random.Random(seed)
    batches: dict[tuple[str, date], list[dict]] = defaultdict(list)
    truth: dict[str, int] = {}
    for n in range(count):
        title, paragraphs, first = write_story(rng)
        for k, outlet in enumerate(rng.sample(OUTLETS, rng.randint(1, 5))):
            if k == 0:
                body, published, headline = [" ".join(p) for p in paragraphs], first, title
            else:
                body, published = outlet_copy(rng, paragraphs, first)
                headline, _, _ = write_story(random.Random(rng.random()))
            url = f"https://{outlet}.example/{published:%Y/%m/%d}/{n}"
            joined = "\n\n".join(body)
            batches[(outlet, published.date())].append({
                "identity": url, "url": url, "canonical_url": url, "title": headline,
                "published_at": published.isoformat(), "authors": [], "language": "en", "body": joined,
                "word_count": len(joined.split()), "content_hash": content_hash(headline, joined)})
            truth[url] = n
    return batches, truth


def load(dsn: str, batches: dict[tuple[str, date], list[dict]]) -> dict[str, float]:
    """Every batch through the load path, in order of day; seconds spent merging and clustering."""
    spent = {"merge": 0.0, "cluster": 0.0}
    for (outlet, day), records in sorted(batches.items(), key=lambda b: (b[0][1], b[0][0])):
        run_id = f"bench-{outlet}-{day}"
        with warehouse.connect(dsn) as conn, conn.cursor() as cur:
            warehouse.stage_records(conn, run_id, outlet, day, records)
            cur.execute("UPDATE news.stage_article SET dq_status = 'passed' WHERE run_id = %s", (run_id,))
        with warehouse.connect(dsn) as conn:
            warehouse.add_article_months(conn, run_id, outlet, WINDOW)
        with warehouse.connect(dsn) as conn:
            warehouse.upsert_source(conn, name=outlet, title=outlet, timezone="UTC", has_story_codes=False)
            started = time.perf_counter()
            warehouse.merge_articles(conn, run_id, outlet)
            merged = time.perf_counter()
            warehouse.cluster_stories(conn)
            spent["cluster"] += time.perf_counter() - merged
            spent["merge"] += merged - started
    return spent


def pair_scores(clusters: dict[str, int], truth: dict[str, int]) -> tuple[float, float, int, int]:
    """Pairwise precision and recall of `clusters` (url -> cluster) against `truth` (url -> story)."""
    def pairs(labels: dict[str, int]) -> set[tuple[str, str]]:
        groups = defaultdict(list)
        for url, label in labels.items():
            groups[label].append(url)
        return {tuple(sorted(p)) for urls in groups.values() for p in combinations(urls, 2)}

    found, wanted = pairs(clusters), pairs(truth)
    right = len(found & wanted)
    return right / (len(found) or 1), right / (len(wanted) or 1), len(found - wanted), len(wanted - found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20240301)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]  # the figures are wall times: say how busy the machine was
    batches, truth = generate(args.stories, args.seed)
    articles = sum(len(r) for r in batches.values())
    folder = Path(tempfile.mkdtemp(prefix="news-etl-bench-clusters-"))
    pg = embedded.start(folder / "pg", databases=("news",))
    try:
        dsn = pg.dsn("news")
        warehouse.upgrade(dsn)
        spent = load(dsn, batches)
        with warehouse.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT a.url, m.cluster_id FROM news.story_member m JOIN news.article a USING (article_id)")
            clusters = dict(cur.fetchall())
            cur.execute("SELECT count(*) FROM news.story_cluster")
            made = cur.fetchone()[0]
    finally:
        embedded.stop(folder / "pg")
        shutil.rmtree(folder, ignore_errors=True)
    precision, recall, false_pairs, missed_pairs = pair_scores(clusters, truth)
    ms = 1000 * spent["cluster"] / articles
    print(f"{args.stories} stories, {articles} articles in {len(batches)} loads (outlet and day); "
          f"{made} clusters made, {len(set(truth.values()))} stories true")
    print(f"load average (1 min) {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, "
          f"on {os.cpu_count()} CPUs")
    print(f"MinHash {stories.NUM_PERM} permutations, {stories.BANDS} bands of {stories.ROWS}, similarity "
          f">= {stories.THRESHOLD}, word {stories.SHINGLE}-shingles, window {stories.WINDOW_DAYS} days")
    print("| figure | value | target |\n|---|---|---|")
    print(f"| pair precision | {precision:.4f} ({false_pairs} false pairs) | >= {TARGETS['precision']} |")
    print(f"| pair recall | {recall:.4f} ({missed_pairs} pairs missed) | >= {TARGETS['recall']} |")
    print(f"| clustering, ms per article (cluster_stories) | {ms:.2f} | <= {TARGETS['ms_per_article']} |")
    print(f"| merge, ms per article (merge_articles, for scale) | {1000 * spent['merge'] / articles:.2f} | |")
    ok = precision >= TARGETS["precision"] and recall >= TARGETS["recall"] and ms <= TARGETS["ms_per_article"]
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
