"""`make bench-extract`: the parsers measured on real pages and feeds, beside trafilatura and htmldate.

The pages live in ../shared/realworld (captured by others from real sites; see its README). They
are read from there only, never copied into the project, and no test depends on them. When the
folder is absent this prints why and exits 0.

Three sets, each with the project's figures, the baseline's figures on the same inputs in the
same run, counts and time taken:

- articles: body extraction by the generic extractor (no rules), scored as
  articles/METRIC.txt describes: word 4-gram multisets per page, macro precision and recall over
  pages, F1 from the two averages. Baseline: trafilatura.extract (comments left out, since the
  ground truth has none).
- dates: the exact day of the original publication, for pages whose day is known. The project
  reads each page as a source without rules whose time zone is UTC (every real source declares
  one). Baseline: htmldate.find_date (original date, extensive search).
- feeds: item count and first item link right (a relative link in expected.json is resolved against
  the feed's own link, as the parser resolves it), and a date parsed for every item that has one.
  Feeds are read as a source in UTC would read them (dates without an offset take the source's zone).

Times are CPU seconds of one pass over a set, after a warm-up call, for every tool alike.

Usage: .venv/bin/python tests/bench/bench_extract.py [-v] [REALWORLD_DIR]
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urljoin

from news_etl import PROJECT_DIR
from news_etl.articles import parse_article
from news_etl.errors import NewsEtlError
from news_etl.feeds import parse_feed
from news_etl.sources import PageRules, Source

DEFAULT_REALWORLD = PROJECT_DIR.parent / "shared" / "realworld"
# A source without rules in UTC: what the generic extractor sees for a site nobody described.
GENERIC_SOURCE = Source(name="generic", title="generic", timezone=__import__("zoneinfo").ZoneInfo("UTC"),
                        feeds=("http://127.0.0.1/",), path=Path("<bench>"), rules=PageRules())


# --- the body metric of articles/METRIC.txt ----------------------------------------------------

_TOKEN = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.IGNORECASE | re.DOTALL)


def shingles(text: str, n: int = 4) -> Counter:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1))) if tokens else Counter()


def shingle_counts(truth: str, predicted: str) -> tuple[float, float, float]:
    """Per-page (tp, fp, fn) of the shingle multisets, normalised to sum to 1."""
    true, pred = shingles(truth), shingles(predicted)
    tp = fp = fn = 0
    for key in true.keys() | pred.keys():
        t, p = true[key], pred[key]
        tp += min(t, p)
        fp += max(0, p - t)
        fn += max(0, t - p)
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


@dataclass
class BodyScore:
    precision: float
    recall: float
    f1: float
    accuracy: float


def body_score(pairs: list[tuple[str, str]]) -> BodyScore:
    """Macro precision/recall over (truth, predicted) pairs; F1 from the two averages."""
    precisions, recalls, exact = [], [], 0
    for truth, predicted in pairs:
        tp, fp, fn = shingle_counts(truth, predicted)
        if tp + fp > 0:
            precisions.append(1.0 if fp == fn == 0 else tp / (tp + fp))
        if tp + fn > 0:
            recalls.append(1.0 if fp == fn == 0 else tp / (tp + fn))
        exact += _TOKEN.findall(truth or "") == _TOKEN.findall(predicted or "")
    p = sum(precisions) / len(precisions) if precisions else 0.0
    r = sum(recalls) / len(recalls) if recalls else 0.0
    return BodyScore(p, r, 2 * p * r / (p + r) if p + r else 0.0, exact / len(pairs) if pairs else 0.0)


# --- runners -----------------------------------------------------------------------------------

def timed(function: Callable, inputs: list) -> tuple[list, float]:
    """Outputs of `function` over `inputs` and the CPU seconds this process spent on them, after a
    warm-up call (imports, compiled patterns). CPU time, not wall time: other work on the machine
    does not count, and one pass, since some baselines cache their results."""
    function(inputs[0])
    start = time.process_time()
    outputs = [function(x) for x in inputs]
    return outputs, time.process_time() - start


def project_body(page: tuple[bytes, str]) -> str:
    data, url = page
    try:
        return parse_article(data, url=url, source=GENERIC_SOURCE).body
    except NewsEtlError:
        return ""


def trafilatura_body(page: tuple[bytes, str]) -> str:
    import trafilatura

    data, url = page
    return trafilatura.extract(data, url=url, include_comments=False) or ""


def project_day(data: bytes) -> str | None:
    try:
        published = parse_article(data, source=GENERIC_SOURCE).published_at
    except NewsEtlError:
        return None
    return published.date().isoformat() if published else None


def htmldate_day(data: bytes) -> str | None:
    from htmldate import find_date

    try:
        return find_date(data, original_date=True, extensive_search=True)
    except Exception:  # a baseline's own failure counts as a miss, not as a crash of the benchmark
        return None


# --- sets ----------------------------------------------------------------------------------------

def bench_articles(root: Path, verbose: bool) -> None:
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(truth)
    pages = [(gzip.decompress((root / "html" / f"{i}.html.gz").read_bytes()), truth[i]["url"]) for i in ids]
    bodies = [truth[i]["articleBody"] for i in ids]
    ours, our_time = timed(project_body, pages)
    theirs, their_time = timed(trafilatura_body, pages)
    print(f"articles: {len(ids)} pages, body F1 as in articles/METRIC.txt (word 4-grams, macro P/R)")
    for name, predicted, seconds in (("project", ours, our_time), ("trafilatura", theirs, their_time)):
        s = body_score(list(zip(bodies, predicted)))
        print(f"  {name:<12} F1 {s.f1:.3f}  P {s.precision:.3f}  R {s.recall:.3f}  exact {s.accuracy:.3f}"
              f"  {seconds:6.2f}s  ({len(ids) / seconds:.0f} pages/s)")
    print(f"  speed: project {their_time / our_time:.1f}x trafilatura")
    if verbose:
        for i, body, mine, other in zip(ids, bodies, ours, theirs):
            a, b = body_score([(body, mine)]), body_score([(body, other)])
            print(f"    {i[:12]}  project P {a.precision:.2f} R {a.recall:.2f}   "
                  f"trafilatura P {b.precision:.2f} R {b.recall:.2f}")


def bench_dates(root: Path, verbose: bool) -> None:
    expected = json.loads((root / "expected.json").read_text(encoding="utf-8"))
    files = sorted(name for name, day in expected.items() if day)
    pages = [(root / "pages" / name).read_bytes() for name in files]
    ours, our_time = timed(project_day, pages)
    theirs, their_time = timed(htmldate_day, pages)
    print(f"dates: {len(files)} pages with a known publication day")
    for name, found, seconds in (("project", ours, our_time), ("htmldate", theirs, their_time)):
        right = sum(f == expected[n] for n, f in zip(files, found))
        missing = sum(f is None for f in found)
        print(f"  {name:<12} day right {right}/{len(files)} = {right / len(files):.1%}  "
              f"(no date {missing}, wrong {len(files) - right - missing})  {seconds:6.2f}s")
    if verbose:
        for name, mine, other in zip(files, ours, theirs):
            if mine != expected[name]:
                print(f"    {name:<40} expected {expected[name]}  project {mine}  htmldate {other}")


def bench_feeds(root: Path, verbose: bool) -> None:
    expected = json.loads((root / "expected.json").read_text(encoding="utf-8"))
    names = sorted(expected)
    _, seconds = timed(lambda name: parse_feed((root / "files" / name).read_bytes(), tz="UTC"), names)
    count_ok = link_ok = dated = undated = 0
    problems = []
    for name in names:
        want = expected[name]
        try:
            feed = parse_feed((root / "files" / name).read_bytes(), url=None, tz="UTC")
        except NewsEtlError as exc:
            problems.append(f"{name}: {exc}")
            continue
        count_ok += len(feed.items) == want["items"]
        first = feed.items[0].link if feed.items else None
        # expected.json keeps a relative link as written; the parser resolves it against the feed's link.
        wanted_link = urljoin(feed.link or "", want["first_item"]["link"])
        link_ok += first == wanted_link
        for item in feed.items:
            if item.published_raw:
                dated += item.published_at is not None
                undated += item.published_at is None
                if item.published_at is None:
                    problems.append(f"{name}: date not read: {item.published_raw!r}")
        if len(feed.items) != want["items"] or first != wanted_link:
            problems.append(f"{name}: {len(feed.items)} items (want {want['items']}), first link {first!r}")
    print(f"feeds: {len(names)} feeds")
    print(f"  project      item count right {count_ok}/{len(names)}, first link right {link_ok}/{len(names)}, "
          f"item dates parsed {dated}/{dated + undated}  {seconds:6.2f}s")
    print("  trafilatura  (no feed parser to compare)")
    for problem in problems[:20 if not verbose else None]:
        print(f"    {problem}")


def main(argv: list[str]) -> int:
    logging.disable(logging.CRITICAL)  # the baselines log every page they find hard
    verbose = "-v" in argv
    args = [a for a in argv if a != "-v"]
    root = Path(args[0]) if args else DEFAULT_REALWORLD
    if not root.is_dir():
        print(f"bench-extract: skipped: {root} not found (the real-world pages are not part of the project)")
        return 0
    for name, bench in (("articles", bench_articles), ("dates", bench_dates), ("feeds", bench_feeds)):
        if (root / name).is_dir():
            bench(root / name, verbose)
        else:
            print(f"{name}: skipped: {root / name} not found")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
