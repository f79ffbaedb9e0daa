"""Faults of the quality gate, the warehouse and the load: values PostgreSQL cannot store, checks
that cannot be evaluated, hostile dates and partitions, locks held by an analyst, a failing
archive, a story whose code changes, and the already-known URLs of a huge feed."""

from __future__ import annotations

import json
import os
import resource
import signal
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import psycopg2

from model import Fault, Outcome, Scenario
from server import GOOD_BODY, FaultServer, article_page, rss

from news_etl import pipeline, warehouse
from news_etl.quality import QualityGateError
from news_etl.settings import Settings
from news_etl.sources import load_source

DAY = date(2024, 3, 1)
NOW = datetime(2024, 3, 2, tzinfo=timezone.utc)
STORABLE = "values PostgreSQL cannot store"
GATE = "the quality gate fails closed"
PARTITIONS = "partitions only inside the window"
LOCKS = "bounded waits on the warehouse"
ARCHIVE = "nothing lost: the archive"
STORY = "nothing doubled: one story"
KNOWN = "bounded memory: known URLs"


def _with_head(extra_head: str, title: str = "Extra story"):
    """A fault page: a good article page with `extra_head` (JSON-LD, links) in its <head>."""
    def page(base: str, code: str) -> bytes:
        return article_page(title, code).replace(b"</head>", extra_head.encode() + b"</head>")
    return page


def _jsonld(**fields) -> str:
    return f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", **fields})}</script>'


def _feed(items: str):
    """A faulty feed: the extra page's item written by `items` (format fields: link)."""
    def feed(base: str, extra_path: str) -> tuple[bytes, str | None]:
        body = items.format(link=f"{base}{extra_path}")
        return f'<rss version="2.0"><channel><title>t</title>{body}</channel></rss>'.encode(), None
    return feed


FAULTS = [
    # One poison value in one item: that row is quarantined with the reason, the rest loads.
    Fault("jsonld-nul-in-author", "page", "ok", quarantined=1, cls=STORABLE,
          page=_with_head(_jsonld(author={"@type": "Person", "name": "Ann\u0000 Lee"}))),
    Fault("jsonld-lone-surrogate", "page", "ok", quarantined=1, cls=STORABLE,
          page=_with_head(_jsonld(author={"@type": "Person", "name": "Ann \ud800 Lee"}))),  # JSON escapes it
    Fault("feed-offset-2000", "feed", "ok", quarantined=1, cls=STORABLE,
          feed=_feed("<item><title>t</title><link>{link}</link><pubDate>Fri, 01 Mar 2024 10:00:00 +2000</pubDate></item>")),
    # A lone surrogate referenced in a feed title: the item reads with U+FFFD, its page loads.
    Fault("feed-lone-surrogate-in-title", "feed", "ok", loads_extra=1, cls=STORABLE,
          feed=_feed("<item><title>Bad &#xD800; title</title><link>{link}</link></item>")),
    Fault("feed-link-port-out-of-range", "feed", "ok", loads_extra=1, cls=STORABLE,
          feed=_feed("<item><title>t</title><link>http://127.0.0.1:99999/x</link></item>"
                     "<item><title>t</title><link>{link}</link></item>")),
    Fault("canonical-port-out-of-range", "page", "ok", quarantined=1, cls=STORABLE,
          page=_with_head('<link rel="canonical" href="http://127.0.0.1:99999/story">')),
    # What the issue saw load while every check errored: a story dated 1970.
    Fault("story-dated-1970", "page", "ok", quarantined=1, cls=PARTITIONS,
          page=lambda base, code: article_page("Extra story", code).replace(b"1 March 2024", b"1 January 1970")),
]


# --- scenarios ------------------------------------------------------------------------------------

def _settings(work_dir: Path) -> Settings:
    os.environ.update(NEWS_ETL_RETRIES="0", NEWS_ETL_CONNECT_TIMEOUT="1", NEWS_ETL_READ_TIMEOUT="1",
                      NEWS_ETL_TOTAL_TIMEOUT="3", NEWS_ETL_ALLOW_HOSTS="127.0.0.1",
                      NEWS_ETL_STATE_DIR=str(work_dir / "state"))
    return Settings.from_env()


def _source(work_dir: Path, name: str, feed: str):
    from matrix import SOURCE  # the matrix's victim source (here, not at the top: matrix imports this module)

    path = work_dir / f"{name}.yaml"
    path.write_text(SOURCE.format(name=name, feeds=feed))
    return load_source(path)


def _record(code: str, published: str | None, **fields) -> dict:
    url = f"http://127.0.0.1/news/{code}"
    return {"identity": code, "url": url, "canonical_url": url, "story_code": code, "title": f"Story {code} today",
            "published_at": published, "authors": [], "language": "en", "body": GOOD_BODY,
            "word_count": len(GOOD_BODY.split()), "content_hash": f"hash-{code}", **fields}


def _count(dsn: str, query: str, params=()) -> int:
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchone()[0]


def _articles(dsn: str, source: str) -> list[str]:
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT a.story_code FROM news.article a JOIN news.source s USING (source_id) WHERE s.name = %s",
                    (source,))
        return [c for (c,) in cur.fetchall()]


def _check_and_load(source, run: pipeline.Run, any_ratio: Path | None = None) -> str:
    """Check and load; with `any_ratio` (a folder for the suites), no share of failed rows blocks."""
    if any_ratio:
        os.environ["NEWS_ETL_SUITES"] = str(_suites_allowing_all(any_ratio, source.name))
    try:
        pipeline.check(source, run, now=NOW)
    except QualityGateError as exc:
        return f"blocked: {exc}"
    finally:
        os.environ.pop("NEWS_ETL_SUITES", None)
    pipeline.load(source, run)
    return "loaded"


def gate_cannot_evaluate(work_dir: Path, dsn: str) -> Outcome:
    """A staged date PostgreSQL refuses (written past the staging layer, as an older writer
    would): every check's query fails inside PostgreSQL. The gate must block, not pass."""
    run = pipeline.Run(run_id="gate-errors", day=DAY, dsn=dsn, settings=_settings(work_dir))
    source = _source(work_dir, "errors", "http://127.0.0.1:9/feed.xml")
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        warehouse.stage_records(conn, run.run_id, source.name, DAY,
                                [_record("1000001", "2024-03-01T10:00:00+03:30")])
        cur.execute("UPDATE news.stage_article SET published_at = '2024-03-01T10:00:00+20:00'")
    verdict = _check_and_load(source, run)
    errors = _count(dsn, "SELECT count(*) FROM news.dq_result WHERE error IS NOT NULL AND NOT success")
    status = _count(dsn, "SELECT count(*) FROM news.etl_run WHERE status = 'blocked' AND message LIKE "
                         "'%%could not be evaluated%%'")
    loaded = len(_articles(dsn, source.name))
    return Outcome(fault="gate-check-cannot-be-evaluated", fetch_outcome=verdict.split(":")[0], loaded=loaded,
                   ok=verdict.startswith("blocked") and errors > 20 and status == 1 and loaded == 0,
                   detail=f"{errors} checks recorded as not evaluated; etl_run blocked; nothing loaded")


def hostile_dates(work_dir: Path, dsn: str) -> Outcome:
    """Stories dated 1970, in year 9999 (UTC 10000), at offset +20:00, beside two good ones: the
    bad are quarantined with their reason and no partition outside the window is created."""
    run = pipeline.Run(run_id="hostile-dates", day=DAY, dsn=dsn, settings=_settings(work_dir))
    source = _source(work_dir, "dates", "http://127.0.0.1:9/feed.xml")
    records = [_record("1000001", "2024-03-01T10:00:00+03:30"), _record("1000002", "2024-03-01T11:00:00+03:30"),
               _record("1000003", "1970-01-01T00:00:00+00:00"), _record("1000004", "9999-12-31T23:00:00-05:00"),
               _record("1000005", "2024-03-01T10:00:00+20:00"), _record("1000006", "2024-03-01T10:00:00+03:30",
                                                                         updated_at="0001-01-01T00:00:00+05:00")]
    partitions = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'news.article'::regclass"
    before = _count(dsn, partitions)
    with warehouse.connect(dsn) as conn:
        warehouse.stage_records(conn, run.run_id, source.name, DAY, records)
    # a ratio of 4 bad in 6 would block the source: the point here is each row's own fate
    verdict = _check_and_load(source, run, any_ratio=work_dir)
    added = _count(dsn, partitions) - before
    loaded = sorted(_articles(dsn, source.name))
    quarantined = _count(dsn, "SELECT count(*) FROM news.quarantine")
    return Outcome(fault="hostile-dates-no-partitions", fetch_outcome=verdict, loaded=len(loaded),
                   quarantined=quarantined, rows_lost=len({"1000001", "1000002"} - set(loaded)),
                   ok=verdict == "loaded" and added <= 1 and quarantined == 4,
                   detail=f"{added} partition(s) added, {quarantined} quarantined")


def _suites_allowing_all(work_dir: Path, source: str) -> Path:
    import shutil

    from news_etl.suites import DEFAULT_SUITES_DIR

    directory = work_dir / "expectations"
    if not directory.exists():
        shutil.copytree(DEFAULT_SUITES_DIR, directory)
    (directory / "sources" / f"{source}.yaml").write_text("thresholds: {max_failed_ratio: 1.0}\n")
    return directory


def _analyst(dsn: str, work_dir: Path) -> str:
    """A login role in news_analyst (migration 0011), as the README says to make one."""
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("DO $$ BEGIN CREATE ROLE gate_analyst LOGIN IN ROLE news_analyst; "
                    "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    params = psycopg2.extensions.parse_dsn(dsn)
    params["user"] = "gate_analyst"
    return psycopg2.extensions.make_dsn(**params)


def analyst_locks(work_dir: Path, dsn: str) -> Outcome:
    """An analyst cannot take the ETL's advisory locks nor create large objects; and a session
    that holds the migration lock makes `db upgrade` fail after the lock timeout, naming it."""
    refused = []
    analyst = psycopg2.connect(_analyst(dsn, work_dir))
    try:
        for statement in ("SELECT pg_advisory_lock(8410001)", "SELECT pg_try_advisory_lock(1)",
                          "SELECT lo_create(0)", "SELECT lo_from_bytea(0, 'x')"):
            try:
                with analyst.cursor() as cur:
                    cur.execute(statement)
            except psycopg2.errors.InsufficientPrivilege:
                refused.append(statement)
            analyst.rollback()
    finally:
        analyst.close()
    os.environ["NEWS_ETL_LOCK_TIMEOUT"] = "1"
    holder = psycopg2.connect(dsn, application_name="someone else")
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(8410001)")
        try:
            warehouse.upgrade(dsn)
            message = "upgrade did not wait"
        except warehouse.WarehouseLockError as exc:
            message = str(exc)
    finally:
        holder.close()
        del os.environ["NEWS_ETL_LOCK_TIMEOUT"]
    named = "migration lock (advisory lock 8410001)" in message and "someone else" in message
    return Outcome(fault="analyst-holds-etl-locks", fetch_outcome="refused" if len(refused) == 4 else "allowed",
                   reason=message, ok=len(refused) == 4 and named,
                   detail=f"{len(refused)} of 4 analyst statements refused; upgrade: {message[:60]}")


def archive_write_fails(work_dir: Path, dsn: str) -> Outcome:
    """The archive's disk refuses a write (the kernel's file size limit, EFBIG) in the middle of an
    extract: the extract fails, keeps its fetch log, and once the fault is gone a re-run fetches
    the page that was not stored. Nothing is lost, though the run failed once."""
    server = FaultServer({})
    try:
        codes = [str(1_000_100 + i) for i in range(1, 5)]
        for code in codes:
            server.good_pages[f"/archive/{code}"] = article_page(f"Story {code}", code)
        # The last page's feed item carries a big title, so its metadata is the write that fails.
        feed = rss(server.base, [f"/archive/{c}" for c in codes]).replace(
            f"<title>Story /archive/{codes[-1]}</title>".encode(), b"<title>" + os.urandom(48_000).hex().encode() + b"</title>")
        server.feeds["/archive/feed.xml"] = (feed, None)
        source = _source(work_dir, "archive", f"{server.base}/archive/feed.xml")
        run = pipeline.Run(run_id="archive-1", day=DAY, dsn=dsn, settings=_settings(work_dir))
        limit = resource.getrlimit(resource.RLIMIT_FSIZE)
        previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, limit[1]))
        try:
            pipeline.extract(source, run, now=NOW)
            first = "succeeded"
        except OSError as exc:
            first = f"failed: {exc}"
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, limit)
            signal.signal(signal.SIGXFSZ, previous)
        logged = _count(dsn, "SELECT count(*) FROM news.feed_fetch WHERE run_id = 'archive-1'")
        again = pipeline.Run(run_id="archive-2", day=DAY, dsn=dsn, settings=run.settings)
        pipeline.extract(source, again, now=NOW)
        pipeline.transform(source, again)
        staged = _count(dsn, "SELECT count(*) FROM news.stage_article WHERE run_id = 'archive-2' "
                             "AND parse_error IS NULL")
    finally:
        server.close()
    return Outcome(fault="archive-write-fails", fetch_outcome=first.split(":")[0], reason=first,
                   rows_lost=len(codes) - staged,
                   ok=first.startswith("failed") and logged >= 2 and staged == len(codes),
                   detail=f"first extract {first[:40]}; {logged} fetch-log rows kept; re-run staged {staged}")


def story_code_changes(work_dir: Path, dsn: str) -> Outcome:
    """A story loaded under code 1000001 comes back at the same canonical URL as 1000002: it is
    quarantined (story_code_stable_for_url), the warehouse keeps one row."""
    settings = _settings(work_dir)
    source = _source(work_dir, "recoded", "http://127.0.0.1:9/feed.xml")
    url = "http://127.0.0.1/news/story"
    first = pipeline.Run(run_id="code-1", day=DAY, dsn=dsn, settings=settings)
    second = pipeline.Run(run_id="code-2", day=DAY + timedelta(days=1), dsn=dsn, settings=settings)
    for run, code, day_text in ((first, "1000001", "2024-03-01"), (second, "1000002", "2024-03-02")):
        with warehouse.connect(dsn) as conn:
            warehouse.stage_records(conn, run.run_id, source.name, run.day, [
                _record(code, f"{day_text}T09:00:00+03:30", url=url, canonical_url=url, identity=code),
                _record(f"{code[:-1]}9", f"{day_text}T09:30:00+03:30", identity=f"{code[:-1]}9")])
        verdict = _check_and_load(source, run, any_ratio=work_dir)
    stories = _count(dsn, "SELECT count(*) FROM news.article WHERE canonical_url = %s", (url,))
    reasons = _count(dsn, "SELECT count(*) FROM news.quarantine q, jsonb_array_elements(q.reasons) r "
                          "WHERE r->>'check' = 'story_code_stable_for_url'")
    return Outcome(fault="story-code-changes-same-url", fetch_outcome=verdict, quarantined=reasons,
                   rows_duplicated=stories - 1, ok=verdict == "loaded" and stories == 1 and reasons == 1,
                   detail=f"{stories} row(s) for the URL; quarantined as story_code_stable_for_url")


def known_urls_of_a_huge_feed(work_dir: Path, dsn: str) -> Outcome:
    """20,000 URLs asked against articles spread over 36 monthly partitions: the answer is exact
    and the backend's peak memory (VmHWM, read from /proc) stays small."""
    run = pipeline.Run(run_id="huge", day=DAY, dsn=dsn, settings=_settings(work_dir))
    source = _source(work_dir, "huge", "http://127.0.0.1:9/feed.xml")
    records = [_record(str(2_000_000 + m), f"{2021 + m // 12}-{m % 12 + 1:02d}-15T09:00:00+00:00") for m in range(36)]
    stored = [r["url"] for r in records]
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        warehouse.stage_records(conn, run.run_id, source.name, DAY, records)
        cur.execute("UPDATE news.stage_article SET dq_status = 'passed'")
        cur.execute("SELECT news.add_article_months('2021-01-01', '2023-12-31')")
    with warehouse.connect(dsn) as conn:
        warehouse.upsert_source(conn, name=source.name, title=source.title, timezone="UTC", has_story_codes=True)
        warehouse.merge_articles(conn, run.run_id, source.name)
    asked = [f"http://127.0.0.1/other/{i}" for i in range(20_000)] + stored
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        (pid,) = cur.fetchone()
        known = warehouse.known_urls(conn, source.name, asked)
        peak_kb = _vm_hwm_kb(pid)
    exact = known == set(stored)
    return Outcome(fault="known-urls-20000-against-36-months", fetch_outcome="exact" if exact else "wrong",
                   ok=exact and (peak_kb is None or peak_kb < 200 * 1024), extra={"backend_peak_kb": peak_kb},
                   detail=f"backend peak {peak_kb / 1024:.0f} MB" if peak_kb else "backend peak not readable")


def gate_cannot_evaluate_one_of_a_shard(work_dir: Path, dsn: str) -> Outcome:
    """The same refused date in one source of a check task's shard, whose sources are validated
    together: the shared query fails, so each is validated alone; only that source is blocked,
    its neighbour's rows pass and load."""
    run = pipeline.Run(run_id="gate-shard", day=DAY, dsn=dsn, settings=_settings(work_dir))
    broken, neighbour = (_source(work_dir, name, "http://127.0.0.1:9/feed.xml") for name in ("broken", "neighbour"))
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        for source, code in ((broken, "1000001"), (neighbour, "1000002")):
            warehouse.stage_records(conn, run.run_id, source.name, DAY, [_record(code, "2024-03-01T10:00:00+03:30")])
        cur.execute("UPDATE news.stage_article SET published_at = '2024-03-01T10:00:00+20:00' WHERE source = 'broken'")
    now = NOW
    validated = pipeline.check_together([broken, neighbour], run, now)
    verdicts = {}
    for source in (broken, neighbour):
        try:
            pipeline.check(source, run, now=now, alone=False, validated=validated.get(source.name))
            pipeline.load(source, run)
            verdicts[source.name] = "loaded"
        except QualityGateError:
            verdicts[source.name] = "blocked"
    errors = {name: _count(dsn, "SELECT count(*) FROM news.dq_result WHERE source = %s AND error IS NOT NULL",
                           (name,)) for name in ("broken", "neighbour")}
    loaded = {name: len(_articles(dsn, name)) for name in ("broken", "neighbour")}
    return Outcome(fault="gate-one-source-of-a-shard-cannot-be-evaluated", fetch_outcome=verdicts["broken"],
                   loaded=loaded["neighbour"],
                   ok=(validated == {} and verdicts == {"broken": "blocked", "neighbour": "loaded"}
                       and errors["broken"] > 20 and errors["neighbour"] == 0 and loaded == {"broken": 0, "neighbour": 1}),
                   detail=f"validated apart; {verdicts}; checks not evaluated {errors}; loaded {loaded}")


def _vm_hwm_kb(pid: int) -> int | None:
    """A local backend's peak resident memory (the embedded server runs on this machine)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


SCENARIOS = [
    Scenario("gate-check-cannot-be-evaluated", GATE, "blocked, every check recorded as not evaluated",
             gate_cannot_evaluate),
    Scenario("gate-one-source-of-a-shard-cannot-be-evaluated", GATE,
             "that source blocked alone, its neighbour in the shard loads", gate_cannot_evaluate_one_of_a_shard),
    Scenario("hostile-dates-no-partitions", PARTITIONS, "bad dates quarantined, no partition outside the window",
             hostile_dates),
    Scenario("analyst-holds-etl-locks", LOCKS, "analyst refused; upgrade fails after lock_timeout naming the lock",
             analyst_locks),
    Scenario("archive-write-fails", ARCHIVE, "extract fails, fetch log kept, re-run fetches what is missing",
             archive_write_fails),
    Scenario("story-code-changes-same-url", STORY, "one row; the new code quarantined", story_code_changes),
    Scenario("known-urls-20000-against-36-months", KNOWN, "exact answer, backend peak < 200 MB",
             known_urls_of_a_huge_feed),
]
