"""The fault matrix: every hostile behaviour of the web we defend against, with its defined outcome.

Each fault gets a victim source with two feeds: a good one listing four good articles, and one
that carries the fault (a faulty feed, or a feed listing a faulty page). A bystander source runs
in the same run. The pipeline's stages run for real (fetch, archive, parse, checks, load into
PostgreSQL); the outcome is read back from the fetch log and the warehouse.

    .venv/bin/python tests/faults/matrix.py      (what `make faults` runs) prints the table;
    tests/test_faults.py asserts the same matrix in `make test`.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from model import Fault, Outcome, Scenario  # noqa: E402
from server import GOOD_BODY, FaultServer, article_page, rss  # noqa: E402

from news_etl import pipeline, warehouse  # noqa: E402
from news_etl.errors import FetchError  # noqa: E402
from news_etl.settings import Settings  # noqa: E402
from news_etl.sources import load_source  # noqa: E402

DAY = date(2024, 3, 1)
GOOD = (1, 2, 3, 4)  # four good articles: one bad row among five stays under the 20% threshold
NOW = datetime(2024, 3, 2, tzinfo=timezone.utc)
SETTINGS_ENV = {
    "NEWS_ETL_RETRIES": "1",
    "NEWS_ETL_CONNECT_TIMEOUT": "1",
    "NEWS_ETL_READ_TIMEOUT": "1",
    "NEWS_ETL_TOTAL_TIMEOUT": "3",
    "NEWS_ETL_ALLOW_HOSTS": "127.0.0.1",
}

SOURCE = """
name: {name}
timezone: Asia/Tehran
language: en
crawl_delay: 0
feeds: [{feeds}]
story_codes: {{pattern: '\\d{{7}}'}}
rules:
  title: //h1
  published: {{xpath: '//div[@class="date"]', format: '%d %B %Y %H:%M'}}
  story_code: {{xpath: '//div[@class="code"]', regex: 'Code: (\\d+)'}}
  body: //div[@class="body"]
"""


FAULTS = [
    Fault("http-500", "page", "failed", r"HTTP 500"),
    Fault("http-503", "page", "failed", r"HTTP 503"),
    Fault("http-429", "page", "failed", r"HTTP 429"),
    Fault("connect-timeout", "feed", "failed", r"ConnectTimeout|timed out"),
    Fault("read-timeout", "page", "failed", r"ReadTimeout|timed out"),
    Fault("slow-drip", "page", "failed", r"took longer than 3 s"),
    Fault("connection-reset", "page", "failed", r"ConnectionError|Connection reset|ChunkedEncodingError"),
    Fault("truncated-body", "page", "failed", r"ChunkedEncodingError|IncompleteRead|ProtocolError"),
    Fault("redirect-loop", "page", "failed", r"more than 5 redirects"),
    Fault("redirect-private", "page", "failed", r"redirected to http://10\.0\.0\.1/internal/admin: refused: "
                                                r"10\.0\.0\.1 is 10\.0\.0\.1, a private"),
    Fault("redirect-loopback", "page", "failed", r"redirected to http://127\.0\.0\.2:9/secret: refused: "
                                                 r"127\.0\.0\.2 is 127\.0\.0\.2, a private"),
    Fault("huge-body", "page", "failed", r"exceeds the 10485760-byte cap"),
    Fault("gzip-bomb", "page", "failed", r"exceeds the 10485760-byte cap"),
    Fault("malformed-xml", "feed", "ok", loads_extra=1),
    Fault("billion-laughs", "feed", "ok", loads_extra=1),
    Fault("external-entity", "feed", "ok", loads_extra=1),
    Fault("html-as-feed", "feed", "failed", r"not an RSS, RDF or Atom feed.* \(root element <html>\)"),
    Fault("wrong-content-type", "feed", "ok", loads_extra=1),
    Fault("non-utf8-page", "page", "ok", loads_extra=1),
    Fault("duplicate-guids", "feed", "ok", loads_extra=1),
    Fault("items-without-links", "feed", "ok", loads_extra=1),
    Fault("login-wall", "page", "ok", quarantined=1),
]
SCENARIOS: list[Scenario] = []


def _collect_fault_modules() -> None:
    """Every tests/faults/*_faults.py adds its FAULTS and SCENARIOS (one module per class of fault,
    so that each class is written and read apart)."""
    for path in sorted(HERE.glob("*_faults.py")):
        module = importlib.import_module(path.stem)
        FAULTS.extend(getattr(module, "FAULTS", ()))
        SCENARIOS.extend(getattr(module, "SCENARIOS", ()))


_collect_fault_modules()


def prepare(server: FaultServer, fault: Fault, write_dir: Path):
    """Serve the fault's pages and feeds; return (victim source, bystander source, the codes of the
    good articles, the URL that carries the fault)."""
    prefix = f"/{fault.name}"
    base = 1_000_000 + 100 * FAULTS.index(fault)
    good = {f"{prefix}/good/{base + i}": article_page(f"Good story {i}", str(base + i)) for i in GOOD}
    server.good_pages.update(good)
    codes = {str(base + i) for i in GOOD}
    server.feeds[f"{prefix}/good.xml"] = (rss(server.base, list(good)), None)
    extra_path, extra_code = f"{prefix}/extra/{base + 9}", str(base + 9)
    extra_page = article_page("Extra story", extra_code)
    if fault.loads_extra:
        codes.add(extra_code)

    second = faulty = f"{server.base}{prefix}/faulty.xml"
    if fault.name == "connect-timeout":
        second = faulty = server.black_hole_url
    elif fault.where == "page":
        page_path = f"{prefix}/page/{fault.name}"
        if fault.name == "non-utf8-page":
            page_path = extra_path
            body = GOOD_BODY.replace("article", "café article")
            server.good_pages[page_path] = article_page("Extra story", extra_code, body=body, charset=None)\
                .replace("café".encode(), "café".encode("cp1252"))
        elif fault.name == "login-wall":
            page_path = extra_path
            wall = " ".join(["Subscribe to continue reading. Already a subscriber? Log in."] * 3)
            server.good_pages[page_path] = article_page("Members only", extra_code, body=wall)
        elif fault.page is not None:
            page_path = extra_path
            server.good_pages[page_path] = fault.page(server.base, extra_code)
        elif fault.respond is not None:
            server.handlers[fault.name] = fault.respond
        server.feeds[f"{prefix}/faulty.xml"] = (rss(server.base, [page_path]), None)
        faulty = f"{server.base}{page_path}"
    else:
        server.good_pages[extra_path] = extra_page
        server.feeds[f"{prefix}/faulty.xml"] = (fault.feed(server.base, extra_path) if fault.feed
                                                else faulty_feed(server.base, fault.name, extra_path))

    victim = write_dir / f"{fault.name}.yaml"
    victim.write_text(SOURCE.format(name=f"victim-{fault.name}", feeds=f"{server.base}{prefix}/good.xml, {second}"))
    by_base = base + 50
    by_pages = {f"{prefix}/bystander/{by_base + i}": article_page(f"Bystander {i}", str(by_base + i)) for i in (1, 2, 3)}
    server.good_pages.update(by_pages)
    server.feeds[f"{prefix}/bystander.xml"] = (rss(server.base, list(by_pages)), None)
    bystander = write_dir / f"bystander-{fault.name}.yaml"
    bystander.write_text(SOURCE.format(name=f"bystander-{fault.name}", feeds=f"{server.base}{prefix}/bystander.xml"))
    return load_source(victim), load_source(bystander), codes, faulty


def faulty_feed(base: str, name: str, extra_path: str) -> tuple[bytes, str | None]:
    link = f"{base}{extra_path}"
    if name == "malformed-xml":  # a raw &, an undeclared entity, an unclosed element
        return (f'<rss version="2.0"><channel><title>Q&A &nbsp; news</title><item><title>Fish & chips'
                f"</title><link>{link}</link></item><item><title>unclosed</channel></rss>").encode(), None
    if name == "billion-laughs":
        # lol9 would expand to 10^9 "lol"s
        entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
        doctype = f"<!DOCTYPE rss [{''.join(entities)}]>"
        return rss(base, [extra_path], extra_items="<item><title>&lol9;</title></item>", doctype=doctype), None
    if name == "external-entity":
        doctype = '<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
        return rss(base, [extra_path], extra_items="<item><title>&secret;</title></item>", doctype=doctype), None
    if name == "html-as-feed":
        return b"<!DOCTYPE html><html><body><h1>Welcome</h1><p>Not a feed.</p></body></html>", "text/html"
    if name == "wrong-content-type":
        return rss(base, [extra_path]), "image/png"
    if name == "duplicate-guids":
        item = f"<item><guid>same</guid><title>x</title><link>{link}</link></item>"
        return f'<rss version="2.0"><channel><title>t</title>{item * 3}</channel></rss>'.encode(), None
    if name == "items-without-links":
        items = "<item><title>No link here</title></item>" * 2 + f"<item><title>x</title><link>{link}</link></item>"
        return f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode(), None
    raise ValueError(name)


def run_fault(fault: Fault, server: FaultServer, dsn: str, work_dir: Path) -> Outcome:
    for key, value in SETTINGS_ENV.items():
        os.environ[key] = value
    os.environ["NEWS_ETL_STATE_DIR"] = str(work_dir / "state")
    settings = Settings.from_env()
    victim, bystander, good_codes, faulty_url = prepare(server, fault, work_dir)
    run = pipeline.Run(run_id=f"faults-{fault.name}", day=DAY, dsn=dsn, settings=settings)
    started = time.monotonic()

    _warm_up(victim)  # lazily loaded modules and tables are not the fault's memory
    tracemalloc.start()
    try:
        pipeline.extract(victim, run, now=NOW)
    except FetchError:
        pass  # every feed failed: recorded, and the task would fail and be retried by Airflow
    pipeline.transform(victim, run)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    pipeline.check(victim, run, now=NOW)
    pipeline.load(victim, run)
    pipeline.extract(bystander, run, now=NOW)
    pipeline.transform(bystander, run)
    pipeline.check(bystander, run, now=NOW)
    pipeline.load(bystander, run)

    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT outcome, coalesce(error, '') FROM news.feed_fetch WHERE source = %s AND url = %s",
                    (victim.name, faulty_url))
        (logged,) = cur.fetchall()
        cur.execute("""SELECT a.story_code FROM news.article a JOIN news.source s USING (source_id)
                       WHERE s.name = %s""", (victim.name,))
        loaded = [c for (c,) in cur.fetchall()]
        cur.execute("SELECT count(*) FROM news.quarantine WHERE source = %s", (victim.name,))
        quarantined = cur.fetchone()[0]
        cur.execute("""SELECT count(*) FROM news.article a JOIN news.source s USING (source_id)
                       WHERE s.name = %s""", (bystander.name,))
        bystander_loaded = cur.fetchone()[0]
    return Outcome(
        fault=fault.name,
        fetch_outcome=logged[0],
        reason=logged[1],
        requests=server.hits[re.sub(r"^http://[^/]+", "", faulty_url)],
        loaded=len(loaded),
        quarantined=quarantined,
        rows_lost=len(good_codes - set(loaded)),
        rows_duplicated=len(loaded) - len(set(loaded)),
        bystander_loaded=bystander_loaded,
        peak_memory_mb=peak / 2**20,
        seconds=time.monotonic() - started,
    )


def _warm_up(source) -> None:
    from airflow.sdk import ObjectStoragePath  # noqa: F401 - what the archive imports on first use
    from news_etl.articles import parse_article

    parse_article(article_page("Warm up", "1000000"), url="http://127.0.0.1/warm-up", source=source)


def web_fault_ok(fault: Fault, o: Outcome) -> bool:
    return bool(o.fetch_outcome == fault.outcome and re.search(fault.reason, o.reason) and o.rows_lost == 0
                and o.rows_duplicated == 0 and o.bystander_loaded == 3 and o.quarantined == fault.quarantined)


def run_scenario(scenario: Scenario, root: Path, pg) -> Outcome:
    """A scenario in a fresh warehouse and folder of its own, its peak Python heap measured."""
    name = f"s_{re.sub(r'[^a-z0-9]', '_', scenario.name)}"[:60]
    pg.ensure_database(name)
    dsn = pg.dsn(name)
    warehouse.upgrade(dsn)
    work_dir = root / "scenarios" / scenario.name
    work_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    tracemalloc.start()
    try:
        o = scenario.run(work_dir, dsn)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    o.peak_memory_mb = max(o.peak_memory_mb, peak / 2**20)
    o.seconds = time.monotonic() - started
    return o


def scenario_ok(o: Outcome) -> bool:
    return bool(o.ok) and o.rows_lost == 0 and o.rows_duplicated == 0


def _row(cls: str, o: Outcome, ok: bool, note: str) -> tuple[str, ...]:
    return (cls, o.fault, o.fetch_outcome + ("" if ok else " (UNEXPECTED)"), str(o.requests), str(o.loaded),
            str(o.quarantined), str(o.rows_lost), str(o.rows_duplicated), str(o.bystander_loaded),
            f"{o.peak_memory_mb:.1f}", f"{o.seconds:.1f}", note[:70])


def main() -> int:
    from news_etl import embedded

    root = Path(tempfile.mkdtemp(prefix="news-etl-faults-"))
    pg = embedded.start(root / "pg", databases=("faults",))
    dsn = pg.dsn("faults")
    warehouse.upgrade(dsn)
    server = FaultServer({})
    print(f"Fault matrix, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs; "
          f"retries {SETTINGS_ENV['NEWS_ETL_RETRIES']}, timeouts 1 s, deadline 3 s, cap 10 MiB\n")
    header = ("class", "fault", "outcome", "asked", "loaded", "quarantined", "rows lost", "rows duplicated",
              "bystander", "peak MB", "s", "reason")
    rows = [header]
    try:
        for fault in FAULTS:
            o = run_fault(fault, server, dsn, root)
            rows.append(_row(fault.cls, o, web_fault_ok(fault, o), o.reason))
        for scenario in SCENARIOS:
            o = run_scenario(scenario, root, pg)
            rows.append(_row(scenario.cls, o, scenario_ok(o), o.detail or o.reason))
        failures = sum(r[2].endswith("(UNEXPECTED)") for r in rows[1:])
    finally:
        server.close()
        embedded.stop(root / "pg")
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for i, r in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    total = len(FAULTS) + len(SCENARIOS)
    print(f"\n{total - failures} of {total} faults had their defined outcome")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
