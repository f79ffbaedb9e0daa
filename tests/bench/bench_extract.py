"""`make bench-extract`: the parsers measured on real pages and feeds, beside trafilatura and htmldate.

The pages live in ../shared/realworld and ../shared/realworld-large (captured by others from real
sites; see their READMEs). They are read from there only, never copied into the project, and no
test depends on them. A folder that is absent is skipped with a line saying so.

Every set is split in two halves by a hash of each page's id: "dev", the half a developer may
look at page by page, and "held-out", the half nobody opens while changing the extractor (only
its aggregate figures are printed; -v lists dev pages only). A change that helps dev and not
held-out is not an improvement. Each article dataset of realworld-large is scored apart (their
ground-truth conventions differ).

Figures, each beside its peer on the same pages in the same run:

- articles: body precision / recall / F1 as articles/METRIC.txt describes (word 4-gram multisets
  per page, macro P and R over pages, F1 from the two averages) against trafilatura.extract
  (comments left out); title exact match where titles are labelled and author match where authors
  are labelled against trafilatura's metadata; the publication day where labelled against
  htmldate; "with"/"without" snippets where given. "tb" counts pages that raised anything but the
  project's own error (a traceback).
- snippets: trafilatura's own check: each "with" snippet found in the body is a hit, each
  "without" found a false positive; recall and precision, against trafilatura.extract
  (comments left out, tables kept) as its evaluation runs it.
- dates: the publisher's local day of the original publication, the project reading each page as
  the generic CLI does (no source, no time zone), against htmldate.find_date (original date,
  extensive search).
- feeds: item count right, first item link right (a relative link in expected.json resolved
  against the feed's own link) and a date on the first item, read without a source time zone.

Speed is pages per second per core: CPU seconds of each page, measured around the one call. The
peers' results and CPU seconds are cached per page in a temp folder, keyed by the page's hash
and the peer's version, so later runs only re-run the project.

Usage: .venv/bin/python tests/bench/bench_extract.py [-v] [--only SUBSTRING] [--no-cache] [DIR...]
  --only keeps the sets whose name ("realworld-large/articles/wcxb-dev", ".../dates") contains it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urljoin

from news_etl import PROJECT_DIR
from news_etl.articles import parse_article
from news_etl.errors import NewsEtlError
from news_etl.feeds import parse_feed

SHARED = PROJECT_DIR.parent / "shared"
DEFAULT_DIRS = (SHARED / "realworld", SHARED / "realworld-large")
CACHE_DIR = Path(tempfile.gettempdir()) / "news-etl-bench-extract"
HALVES = ("dev", "held-out")


def half_of(page_id: str) -> str:
    """The half a page belongs to: fixed by its id alone, so every run and every developer agrees."""
    return HALVES[hashlib.sha256(page_id.encode("utf-8")).digest()[0] & 1]


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


def snippet_counts(text: str, with_: list[str], without: list[str]) -> tuple[int, int, int]:
    """(with found, with total, without found), as trafilatura's eval_common.count_item looks them up."""
    flat = " ".join((text or "").split())
    found = sum(" ".join(s.split()) in flat for s in with_)
    leaked = sum(" ".join(s.split()) in flat for s in without)
    return found, len(with_), leaked


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def same_title(truth: str, found: str | None) -> bool:
    """Whitespace-normalised equality, typographic quotes as plain ones (labellers retype them).
    Characters outside Latin-1 compare equal to '?', since some labelled copies lost them
    (l3s-gn1's README). A label of several paragraphs (kicker, headline, deck) matches any of them."""
    def forms(text: str) -> set[str]:
        text = " ".join(text.split())
        return {text.translate(_QUOTES), "".join(c if ord(c) < 256 else "?" for c in text)}
    if found is None:
        return False
    return any(forms(part) & forms(found) for part in [truth, *truth.split("\n\n")] if part.strip())


_NAME_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b)\s*", re.IGNORECASE)


def same_authors(truth: str, found: list[str] | tuple[str, ...] | str | None) -> bool:
    """The same set of names, case and spacing aside; an empty label wants no author."""
    def names(value) -> set[str]:
        parts = _NAME_SPLIT.split(value) if isinstance(value, str) else list(value or ())
        return {" ".join(p.split()).casefold() for p in parts if p and p.strip()}
    return names(truth) == names(found)


# --- runs: the project live, the peers cached ----------------------------------------------------

@dataclass
class Run:
    """One tool's output on one page and the CPU seconds it took; `crash` is a traceback's last line."""
    value: dict
    seconds: float
    crash: str | None = None


_warmed: set[str] = set()


def cpu_timed(function: Callable[[], dict], task: str = "project") -> Run:
    """One call's CPU seconds. The first call of each task in this process runs once untimed before
    (imports, compiled patterns, lazily built tables), so no page pays for them."""
    if task not in _warmed:
        _warmed.add(task)
        try:
            function()
        except Exception:
            pass
    start = time.process_time()
    try:
        value = function()
        crash = None
    except Exception as exc:  # counted and reported: the target is that no page raises
        value, crash = {}, f"{type(exc).__name__}: {exc}"[:200]
        if os.environ.get("BENCH_TRACEBACKS"):
            traceback.print_exc()
    return Run(value, time.process_time() - start, crash)


_peer_versions: dict[str, str] = {}


def peer_version(peer: str) -> str:
    if peer not in _peer_versions:
        from importlib.metadata import version
        _peer_versions[peer] = version(peer)
    return _peer_versions[peer]


USE_CACHE = True


def cached(peer: str, task: str, key: bytes, function: Callable[[], dict]) -> Run:
    """The peer's run on one page, from the cache when this page (bytes and inputs) was seen by
    this version of the peer before. A cached run keeps the CPU seconds it was measured with."""
    digest = hashlib.sha256(key).hexdigest()
    path = CACHE_DIR / f"{peer}-{peer_version(peer)}" / task / digest[:2] / f"{digest}.json"
    if USE_CACHE and path.is_file():
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            return Run(saved["value"], saved["seconds"], saved.get("crash"))
        except (ValueError, KeyError):
            pass  # a torn cache file is run again
    run = cpu_timed(function, f"{peer}/{task}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"value": run.value, "seconds": run.seconds, "crash": run.crash}), encoding="utf-8")
    tmp.replace(path)
    return run


def project_article(data: bytes, url: str | None) -> Run:
    """The generic extractor as `news-etl parse-article` runs it: no source, no time zone."""
    def parse() -> dict:
        try:
            article = parse_article(data, url=url)
        except NewsEtlError as exc:
            return {"error": str(exc)[:200], "body": "", "title": None, "authors": [], "day": None}
        day = article.published_at.date().isoformat() if article.published_at else None
        return {"body": article.body, "title": article.title, "authors": list(article.authors), "day": day}
    return cpu_timed(parse)


def trafilatura_body(data: bytes, url: str | None, tables: bool = False) -> Run:
    def extract() -> dict:
        import trafilatura
        kwargs = {"include_tables": True} if tables else {}
        return {"body": trafilatura.extract(data, url=url, include_comments=False, **kwargs) or ""}
    return cached("trafilatura", "body-tables" if tables else "body", data + (url or "").encode(), extract)


def trafilatura_metadata(data: bytes, url: str | None) -> Run:
    def extract() -> dict:
        from trafilatura import extract_metadata
        meta = extract_metadata(data, default_url=url)
        return {"title": meta.title if meta else None, "author": meta.author if meta else None}
    return cached("trafilatura", "metadata", data + (url or "").encode(), extract)


def htmldate_day(data: bytes) -> Run:
    def find() -> dict:
        from htmldate import find_date
        return {"day": find_date(data, original_date=True, extensive_search=True)}
    return cached("htmldate", "day", data, find)


# --- tables --------------------------------------------------------------------------------------

@dataclass
class Half:
    """What one tool got right on one half of a set."""
    pages: int = 0
    seconds: float = 0.0
    crashes: int = 0
    pairs: list = field(default_factory=list)
    titles: list = field(default_factory=list)
    authors: list = field(default_factory=list)
    days: list = field(default_factory=list)
    snippets: list = field(default_factory=lambda: [0, 0, 0])

    def add(self, run: Run) -> None:
        self.pages += 1
        self.seconds += run.seconds
        self.crashes += run.crash is not None

    def add_snippets(self, counts: tuple[int, int, int]) -> None:
        self.snippets = [a + b for a, b in zip(self.snippets, counts)]


def _rate(right: list) -> str:
    return f"{sum(right) / len(right):.3f} ({sum(right)}/{len(right)})" if right else "-"


def _snippet_figures(counts: list[int]) -> str:
    found, total, leaked = counts
    if not total:
        return ""
    precision = found / (found + leaked) if found + leaked else 0.0
    return f"  snippets R {found / total:.3f} P {precision:.3f} (leaked {leaked})"


def print_halves(name: str, tools: dict[str, dict[str, Half]]) -> None:
    print(name)
    for half in HALVES:
        for tool, halves in tools.items():
            h = halves[half]
            if not h.pages:
                continue
            parts = [f"  {half:<8} {tool:<12} n {h.pages:4d}"]
            if h.pairs:
                s = body_score(h.pairs)
                parts.append(f"body F1 {s.f1:.3f} P {s.precision:.3f} R {s.recall:.3f}")
            if h.titles:
                parts.append(f"title {_rate(h.titles)}")
            if h.authors:
                parts.append(f"author {_rate(h.authors)}")
            if h.days:
                parts.append(f"day {_rate(h.days)}")
            line = "  ".join(parts) + _snippet_figures(h.snippets)
            per_s = h.pages / h.seconds if h.seconds else float("inf")
            print(f"{line}  {per_s:6.0f} pages/s/core  tb {h.crashes}")
        ours, peers = tools["project"][half], [t[half] for n, t in tools.items() if n != "project"]
        for peer_name, peer in zip([n for n in tools if n != "project"], peers):
            if ours.seconds and peer.seconds and peer.pages == ours.pages:
                print(f"  {half:<8} speed: project {peer.seconds / ours.seconds:.1f}x {peer_name}")


def _halves() -> dict[str, Half]:
    return {half: Half() for half in HALVES}


# --- sets ----------------------------------------------------------------------------------------

def bench_articles(root: Path, label: str, selected: Callable[[str], bool], verbose: bool) -> None:
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    by_dataset: dict[str, list[str]] = defaultdict(list)
    for page_id in sorted(truth):
        by_dataset[truth[page_id].get("dataset") or ""].append(page_id)
    for dataset, ids in sorted(by_dataset.items()):
        name = f"{label}/articles" + (f"/{dataset}" if dataset else "")
        if not selected(name):
            continue
        tools = {"project": _halves(), "trafilatura": _halves()}
        dates = {"project": _halves(), "htmldate": _halves()}
        for page_id in ids:
            want = truth[page_id]
            data = gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes())
            url = want.get("url") if want.get("url") not in (None, "None") else None
            half = half_of(page_id)
            ours, body = project_article(data, url), trafilatura_body(data, url)
            meta = trafilatura_metadata(data, url) if want.get("title") or "author" in want else None
            mine, theirs = tools["project"][half], tools["trafilatura"][half]
            mine.add(ours)
            theirs.add(body)
            mine.pairs.append((want["articleBody"], ours.value.get("body", "")))
            theirs.pairs.append((want["articleBody"], body.value.get("body", "")))
            if want.get("title"):
                mine.titles.append(same_title(want["title"], ours.value.get("title")))
                theirs.titles.append(same_title(want["title"], meta.value.get("title")))
            if "author" in want:
                mine.authors.append(same_authors(want["author"] or "", ours.value.get("authors")))
                theirs.authors.append(same_authors(want["author"] or "", meta.value.get("author")))
            if want.get("with") or want.get("without"):
                mine.add_snippets(snippet_counts(ours.value.get("body", ""), want.get("with") or [],
                                                 want.get("without") or []))
                theirs.add_snippets(snippet_counts(body.value.get("body", ""), want.get("with") or [],
                                                   want.get("without") or []))
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", want.get("publish_date") or ""):
                peer = htmldate_day(data)
                dates["project"][half].add(ours)
                dates["htmldate"][half].add(peer)
                dates["project"][half].days.append(ours.value.get("day") == want["publish_date"])
                dates["htmldate"][half].days.append(peer.value.get("day") == want["publish_date"])
            if verbose and half == "dev":
                a, b = body_score([(want["articleBody"], ours.value.get("body", ""))]), \
                    body_score([(want["articleBody"], body.value.get("body", ""))])
                print(f"    {page_id[:24]:<24} project P {a.precision:.2f} R {a.recall:.2f}  "
                      f"trafilatura P {b.precision:.2f} R {b.recall:.2f}  title {ours.value.get('title')!r:.60}"
                      f"  authors {ours.value.get('authors')}  {ours.crash or ''}")
        print_halves(f"{name}: {len(ids)} pages", tools)
        if dates["project"]["dev"].days or dates["project"]["held-out"].days:
            print_halves(f"{name}: publication day where labelled", dates)


def bench_snippets(root: Path, label: str, selected: Callable[[str], bool], verbose: bool) -> None:
    name = f"{label}/snippets"
    if not selected(name):
        return
    expected = json.loads((root / "expected.json").read_text(encoding="utf-8"))
    tools = {"project": _halves(), "trafilatura": _halves()}
    for page in sorted(expected):
        want = expected[page]
        data = gzip.decompress((root / "html" / f"{page}.html.gz").read_bytes())
        url = want.get("url")
        half = half_of(page)
        ours, theirs = project_article(data, url), trafilatura_body(data, url, tables=True)
        for tool, run in (("project", ours), ("trafilatura", theirs)):
            tools[tool][half].add(run)
            tools[tool][half].add_snippets(snippet_counts(run.value.get("body", ""), want["with"], want["without"]))
        if verbose and half == "dev":
            found, total, leaked = snippet_counts(ours.value.get("body", ""), want["with"], want["without"])
            if found < total or leaked:
                print(f"    {page[:50]:<50} with {found}/{total} leaked {leaked}  {ours.crash or ''}")
    print_halves(f"{name}: {len(expected)} pages", tools)


def bench_dates(root: Path, label: str, selected: Callable[[str], bool], verbose: bool) -> None:
    name = f"{label}/dates"
    if not selected(name):
        return
    expected = json.loads((root / "expected.json").read_text(encoding="utf-8"))
    files = sorted(f for f, day in expected.items() if day)
    tools = {"project": _halves(), "htmldate": _halves()}
    for page in files:
        data = (root / "pages" / page).read_bytes()
        half = half_of(page)
        ours, theirs = project_article(data, None), htmldate_day(data)
        for tool, run in (("project", ours), ("htmldate", theirs)):
            tools[tool][half].add(run)
            tools[tool][half].days.append(run.value.get("day") == expected[page])
        if verbose and half == "dev" and ours.value.get("day") != expected[page]:
            print(f"    {page[:50]:<50} expected {expected[page]}  project {ours.value.get('day')}  "
                  f"htmldate {theirs.value.get('day')}  {ours.crash or ours.value.get('error') or ''}")
    print_halves(f"{name}: {len(files)} pages with a known publication day", tools)


def _read_feed(data: bytes) -> dict:
    try:
        return {"feed": parse_feed(data)}
    except NewsEtlError as exc:
        return {"error": str(exc)[:200]}


def bench_feeds(root: Path, label: str, selected: Callable[[str], bool], verbose: bool) -> None:
    name = f"{label}/feeds"
    if not selected(name):
        return
    expected = json.loads((root / "expected.json").read_text(encoding="utf-8"))
    figures = {half: Counter() for half in HALVES}
    problems = []
    for feed_name in sorted(expected):
        want, half = expected[feed_name], half_of(feed_name)
        data = (root / "files" / feed_name).read_bytes()
        run = cpu_timed(lambda: _read_feed(data), "feeds")
        counts = figures[half]
        counts["feeds"] += 1
        counts["seconds"] += run.seconds
        counts["tb"] += run.crash is not None
        feed = run.value.get("feed")
        if feed is None:
            counts["unreadable"] += 1
            problems.append((half, f"{feed_name}: {run.crash or run.value.get('error')}"))
            continue
        first = feed.items[0] if feed.items else None
        wanted_link = urljoin(feed.link or "", want["first_item"]["link"])
        right = (len(feed.items) == want["items"], first is not None and first.link == wanted_link,
                 first is not None and first.published_at is not None)
        for key, ok in zip(("count", "link", "date"), right):
            counts[key] += ok
        counts["all"] += all(right)
        if not all(right):
            problems.append((half, f"{feed_name}: {len(feed.items)} items (want {want['items']}), first link "
                                   f"{first.link if first else None!r}, first date "
                                   f"{first.published_raw if first else None!r} -> "
                                   f"{first.published_at if first else None}"))
    print(f"{name}: {len(expected)} feeds, read without a source time zone")
    for half in HALVES:
        c = figures[half]
        print(f"  {half:<8} project      all right {c['all']}/{c['feeds']}  item count {c['count']}  first link "
              f"{c['link']}  first date {c['date']}  unreadable {c['unreadable']}  "
              f"tb {c['tb']}  {c['feeds'] / c['seconds'] if c['seconds'] else 0:6.0f} feeds/s/core")
    print("  (trafilatura and htmldate read no feeds: no peer to compare)")
    for half, problem in problems:
        if half == "dev":
            print(f"    dev: {problem}")
    held_out = sum(half == "held-out" for half, _ in problems)
    if held_out:
        print(f"    held-out: {held_out} feeds wrong (not listed)")


def main(argv: list[str]) -> int:
    global USE_CACHE
    logging.disable(logging.CRITICAL)  # the baselines log every page they find hard
    verbose = "-v" in argv
    USE_CACHE = "--no-cache" not in argv
    only = ""
    args = []
    rest = iter(a for a in argv if a not in ("-v", "--no-cache"))
    for arg in rest:
        if arg == "--only":
            only = next(rest, "")
        elif arg.startswith("--only="):
            only = arg.split("=", 1)[1]
        else:
            args.append(arg)
    dirs = [Path(a) for a in args] or list(DEFAULT_DIRS)

    def selected(name: str) -> bool:
        return only in name
    # The project imports trafilatura on its first page that needs a second opinion: a worker pays
    # that once, so no page's seconds should (the warm-up call may not be such a page).
    import trafilatura  # noqa: F401
    print(f"bench-extract {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; halves by sha256(page id); "
          f"peers cached in {CACHE_DIR}")
    for root in dirs:
        if not root.is_dir():
            print(f"bench-extract: skipped: {root} not found (the real-world pages are not part of the project)")
            continue
        for part, bench in (("articles", bench_articles), ("snippets", bench_snippets), ("dates", bench_dates),
                            ("feeds", bench_feeds)):
            if (root / part).is_dir():
                bench(root / part, root.name, selected, verbose)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
