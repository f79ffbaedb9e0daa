"""The stages of one run for one source and day: extract, transform, check, load.

Each function is what one Airflow task calls. It takes plain values (a source, a day, a run id),
does its I/O through the edge modules (fetch, archive, warehouse) and returns a small dict of
counters for XCom; the same counters go to news.etl_run, from which the run summary is printed.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from news_etl import quality, warehouse
from news_etl.archive import FEEDS, PAGES, Archive, Filing
from news_etl.articles import article_record, parse_article
from news_etl.dates import isoformat
from news_etl.errors import ConfigError, FeedError, FetchError, NewsEtlError, PageError
from news_etl.feeds import FeedItem, parse_feed
from news_etl.fetch import Fetcher
from news_etl.quality import QualityGateError, check_staged, collection_window
from news_etl.settings import Settings
from news_etl.sources import Source, load_sources_leaving_out_broken
from news_etl.terms import load_watch_terms, watch_terms_file
from news_etl.suites import load_suite, suite_files
from news_etl.urls import is_http_url, normalize_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Run:
    """What every stage needs to know about the run it belongs to."""

    run_id: str
    day: date
    dsn: str
    settings: Settings
    refetch: bool = False  # fetch again even when the archive holds the day
    reprocess: bool = False  # transform, check and load even when nothing changed since the last load

    @property
    def archive(self) -> Archive:
        return Archive(self.settings.archive_root)


def records_failure(stage):
    """Write a failing stage's one-line reason to news.etl_run before the error reaches Airflow."""

    @functools.wraps(stage)
    def wrapper(source: Source, run: Run, *args, **kwargs):
        try:
            return stage(source, run, *args, **kwargs)
        except Exception as exc:
            blocked = isinstance(exc, QualityGateError)
            reason = str(exc) if blocked else f"{stage.__name__} failed: {type(exc).__name__}: {exc}"
            try:
                with warehouse.connect(run.dsn) as conn:
                    warehouse.record_run(conn, run.run_id, source.name, run.day,
                                         status="blocked" if blocked else "failed",
                                         message=reason.splitlines()[0][:1000], finished=True)
            except Exception:  # the warehouse itself may be what failed; the task log has the error
                log.exception("could not record the failure of %s for %s", stage.__name__, source.name)
            raise

    return wrapper


def migrate(dsn: str) -> list[str]:
    return warehouse.upgrade(dsn)


# --- extract -------------------------------------------------------------------------------------

@records_failure
def extract(source: Source, run: Run, now: datetime | None = None) -> dict:
    """Collect the source's raw data for the run's day into the archive.

    Every call is a new attempt: a row of its own in news.etl_run, which the later stages fill in.
    When the archive already holds a finished extract of this source and day, it is reused and
    nothing is fetched (unless the run's `refetch` param is set): a re-run or backfill is then a
    re-run of pure transformations over stored data. Otherwise the feeds for the run's window are
    fetched (per-day archive feeds and sitemaps, which is how a past day is found), then every new
    article page they announce. Every response goes to the archive, every outcome to the fetch log.
    Fails only when every feed failed (after recording why), so Airflow retries that source alone.
    The extract completes the day only once the day is over where the source publishes, plus the
    lag (day_over_at); before that it is partial, and the next run of the day fetches again.
    """
    archive = run.archive
    now = now or datetime.now(timezone.utc)
    with warehouse.connect(run.dsn) as conn:
        warehouse.start_attempt(conn, run.run_id, source.name, run.day)
    window = collection_window(run.day, source, run.settings.lookback_days)
    if now < window[0]:  # (a run for D before D has begun still collects the lookback days)
        raise NewsEtlError(f"source {source.name}: {run.day} has not started in {source.timezone.key}, nor "
                           f"the lookback days before it: nothing to collect before {isoformat(window[0])}")
    if not run.refetch and archive.is_complete(source.name, run.day):
        pages = len(archive.entries(source.name, run.day, PAGES))
        fingerprint = inputs_fingerprint(source, run)
        since = None if run.reprocess else _record_if_unchanged(source, run, fingerprint)
        if not since:
            with warehouse.connect(run.dsn) as conn:
                warehouse.record_run(conn, run.run_id, source.name, run.day, fingerprint=fingerprint)
        log.info("%s: the archive holds %s (%d pages): nothing fetched%s", source.name, run.day, pages,
                 f"; nothing changed since run {since}" if since else "")
        return {"source": source.name, "from_archive": True, "articles_fetched": 0, "unchanged_since": since}

    fetch_log: list[dict] = []
    budget = ByteBudget(run.settings.max_bytes_per_day)
    # One WARC per extract: published (with what was fetched) when the block ends, an error too.
    with archive.filing(source.name, run.day, info={"run-id": run.run_id}) as filing:
        try:
            with Fetcher(run.settings, crawl_delay=source.crawl_delay, dsn=run.dsn, run_id=run.run_id) as fetcher:
                counts, items, feed_errors = _fetch_feeds(source, run, fetcher, fetch_log, budget, now, filing)
                if counts["feeds_fetched"] + counts["feeds_not_modified"]:
                    counts.update(_fetch_pages(source, run, fetcher, fetch_log, budget, items, filing))
        except BaseException:
            # What was fetched before the failure (an archive that cannot be written, a lost
            # warehouse) stays in the fetch log: that is how source health is seen.
            try:
                with warehouse.connect(run.dsn) as conn:
                    warehouse.log_fetches(conn, fetch_log)
            except Exception:
                log.exception("%s: could not write the fetch log of the failed extract", source.name)
            raise

        ok = counts["feeds_fetched"] + counts["feeds_not_modified"]
        with warehouse.connect(run.dsn) as conn:
            warehouse.log_fetches(conn, fetch_log)
            warehouse.record_run(conn, run.run_id, source.name, run.day, **counts,
                                 status="failed" if not ok else None,
                                 message=f"every feed failed: {feed_errors[0]}" if not ok else None)
        if not ok:
            raise FetchError(f"source {source.name}: all {counts['feeds_failed']} feeds failed; first: {feed_errors[0]}")
        over_at = day_over_at(source, run.day, timedelta(minutes=run.settings.day_lag_minutes))
        partial = now < over_at
        if not partial:
            filing.complete({"run_id": run.run_id, **counts})
    if partial:
        # The day goes on where the source publishes: what was found so far is loaded, and the
        # next run fetches again (conditional GETs; pages already archived are not asked for).
        with warehouse.connect(run.dsn) as conn:
            warehouse.record_run(conn, run.run_id, source.name, run.day, partial=True)
        log.info("%s: %s is partial until %s: %s", source.name, run.day, isoformat(over_at), counts)
        return {"source": source.name, **counts, "partial": True}
    with warehouse.connect(run.dsn) as conn:
        warehouse.record_run(conn, run.run_id, source.name, run.day, fingerprint=inputs_fingerprint(source, run))
    log.info("%s: %s", source.name, counts)
    return {"source": source.name, **counts}


def day_over_at(source: Source, day: date, lag: timedelta) -> datetime:
    """When an extract of `day` can be complete: once the day has ended in the source's time zone
    (the end of its collection window), plus the lag that late items and cached feeds need."""
    return collection_window(day, source, 0)[1] + lag


def day_has_started(day: date, sources: list[Source], now: datetime | None = None) -> bool:
    """Whether `day` has begun in the time zone of any of `sources` (a later day has nothing yet)."""
    now = now or datetime.now(timezone.utc)
    return any(now >= collection_window(day, source, 0)[0] for source in sources)


def runnable_sources(directory=None) -> tuple[dict[str, Source], dict[str, str]]:
    """The sources a run can collect, by name, and those it must leave out: a source file or
    quality suite that does not load leaves out that source only, with the error (file and key)
    by the file's name."""
    sources, left_out = load_sources_leaving_out_broken(directory)
    runnable = {}
    for source in sources:
        try:
            load_suite(source.name)
        except ConfigError as exc:
            left_out[source.name] = str(exc)
            continue
        runnable[source.name] = source
    return runnable, left_out


def record_left_out(run: Run, left_out: dict[str, str]) -> None:
    """A failed attempt for each source left out, with its file's error: the summary of the run
    says which were left out and why."""
    with warehouse.connect(run.dsn) as conn:
        for name, error in left_out.items():
            warehouse.start_attempt(conn, run.run_id, name, run.day)
            warehouse.record_run(conn, run.run_id, name, run.day, status="failed", finished=True,
                                 message=f"left out: {error}".splitlines()[0][:1000])


def plan(sources: list[Source], run: Run) -> list[str]:
    """The names of the sources this run has work for: every source but those with nothing
    changed since their day's last load (recorded 'unchanged' here), so that a re-run of a day
    starts no task for them. A source whose state cannot be read is kept: its extract says why."""
    def has_work(source: Source) -> bool:
        try:
            return not unchanged_since(source, run)
        except Exception:
            log.exception("%s: could not tell whether anything changed; it runs", source.name)
            return True

    return [source.name for source in sources if has_work(source)]


def unchanged_since(source: Source, run: Run) -> str | None:
    """The run whose results this one would repeat: the source's last run of the day that ended
    well, when the day is in the archive and nothing it depends on (inputs_fingerprint) changed
    since. Such a run is recorded as 'unchanged'. None (and nothing recorded) when there is work,
    and always with the run's `refetch` or `reprocess` param."""
    if run.refetch or run.reprocess or not run.archive.is_complete(source.name, run.day):
        return None
    return _record_if_unchanged(source, run, inputs_fingerprint(source, run), new_attempt=True)


def _record_if_unchanged(source: Source, run: Run, fingerprint: str, new_attempt: bool = False) -> str | None:
    with warehouse.connect(run.dsn) as conn:
        since = warehouse.unchanged_since(conn, source.name, run.day, fingerprint)
        if since:  # (this very run when Airflow runs it again, as a reprocessing backfill does)
            if new_attempt:
                warehouse.start_attempt(conn, run.run_id, source.name, run.day)
            warehouse.record_run(conn, run.run_id, source.name, run.day, status="unchanged", finished=True,
                                 fingerprint=fingerprint, message=f"nothing changed since run {since}",
                                 loaded_new=0, loaded_updated=0)
    return since


def inputs_fingerprint(source: Source, run: Run) -> str:
    """What a source's day's results depend on: the extract that completed the day's archive, the
    source file, the quality suite, the watched terms, the settings the checks use, and the code.
    A run whose fingerprint is that of the last run that ended well has nothing to do."""
    digest = hashlib.sha256(run.archive.completion(source.name, run.day))
    for path in (source.path, *suite_files(source.name), watch_terms_file()):
        digest.update(Path(path).read_bytes())
    digest.update(f"{run.settings.lookback_days}:{run.settings.clock_skew_minutes}:{_code_version()}".encode())
    return digest.hexdigest()


@functools.cache
def _code_version() -> str:
    """A digest of the package's modules and SQL: a new parser or merge means results may change."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted([*package.rglob("*.py"), *warehouse.SQL_DIR.rglob("*.sql")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _fetch_feeds(source: Source, run: Run, fetcher: Fetcher, fetch_log: list[dict], budget: ByteBudget,
                 now: datetime, filing: Filing) -> tuple[dict, dict[str, FeedItem], list[str]]:
    """Fetch (conditionally) and parse every feed of the run's window; returns the counters, the
    items dated in the window (or undated) by normalized link, and the feeds' errors."""
    settings, archive = run.settings, run.archive
    window = collection_window(run.day, source, settings.lookback_days)
    # A day's archive feed cannot exist before that day has begun where the source is.
    source_today = now.astimezone(source.timezone).date()
    days = [d for d in (run.day - timedelta(days=n) for n in range(settings.lookback_days, -1, -1))
            if d <= source_today]
    feed_urls = list(dict.fromkeys(u for d in days for u in source.feed_urls(d)))
    with warehouse.connect(run.dsn) as conn:
        states = warehouse.feed_states(conn, feed_urls)
    counts = dict(feeds_fetched=0, feeds_not_modified=0, feeds_failed=0, items_cut=0)
    known_feeds, sitemap_room = set(feed_urls), settings.max_feed_items
    items: dict[str, FeedItem] = {}
    errors: list[str] = []
    for url in feed_urls:
        entry = {"run_id": run.run_id, "source": source.name, "kind": "feed", "url": url}
        fetch_log.append(entry)
        etag, last_modified, last_ref = states.get(url, (None, None, None))
        if budget.spent():
            counts["feeds_failed"] += 1
            errors.append(f"{url}: not fetched: {budget.reason()}")
            entry.update(outcome="failed", error=errors[-1], fetched_at=datetime.now(timezone.utc))
            continue
        try:
            # Conditional only when the body the validators stand for is in the archive.
            last_ref = last_ref if last_ref and archive.holds(last_ref) else None
            resp = fetcher.get(url, etag=etag if last_ref else None,
                               last_modified=last_modified if last_ref else None)
        except FetchError as exc:
            counts["feeds_failed"] += 1
            errors.append(str(exc))
            entry.update(outcome="failed", error=str(exc), fetched_at=datetime.now(timezone.utc))
            continue
        entry.update(final_url=resp.final_url, http_status=resp.status, fetched_at=resp.fetched_at,
                     elapsed_ms=resp.elapsed_ms)
        if resp.not_modified and last_ref:
            # Unchanged since the last fetch: read the archived copy it stands for, so items
            # whose pages failed last time are tried again.
            body, ref = archive.read(last_ref), last_ref
            entry["outcome"] = "not_modified"
        else:
            body = resp.body
            budget.spend(len(body))
            ref = _archive(entry, lambda: filing.put(FEEDS, resp))
            entry.update(outcome="ok", bytes=len(body))
            with warehouse.connect(run.dsn) as conn:
                warehouse.save_feed_state(conn, source.name, url, resp.headers.get("etag"),
                                          resp.headers.get("last-modified"), ref)
        entry["raw_ref"] = ref
        try:
            feed = parse_feed(body, url=resp.final_url, tz=source.timezone.key)
        except Exception as exc:  # a parser bug (one &#xD800; in a title) fails this feed, not the source
            reason = str(exc) if isinstance(exc, FeedError) else f"{url}: feed parser error {type(exc).__name__}: {exc}"
            if not isinstance(exc, FeedError):
                log.exception("parsing the feed %s failed", url)
            counts["feeds_failed"] += 1
            errors.append(reason)
            entry.update(outcome="failed", error=reason)
            continue
        counts["feeds_not_modified" if entry["outcome"] == "not_modified" else "feeds_fetched"] += 1
        entry["items"] = len(feed.items)
        # A hostile or broken feed may list 180,000 items (or sitemaps): only the first are read.
        feed_items, sitemaps = feed.items[:settings.max_feed_items], feed.sitemaps[:settings.max_feed_items]
        cut = len(feed.items) - len(feed_items) + len(feed.sitemaps) - len(sitemaps)
        if cut:
            entry["items_cut"] = cut
            counts["items_cut"] += cut
            log.warning("%s: %s lists %d items and %d sitemaps: %d not read (NEWS_ETL_MAX_FEED_ITEMS=%d per feed)",
                        source.name, url, len(feed.items), len(feed.sitemaps), cut, settings.max_feed_items)
        # A sitemap index lists sitemaps, not stories: those changed since the window began are read
        # too, at most NEWS_ETL_MAX_FEED_ITEMS of them in the whole extract (indexes may nest).
        listed = [s.url for s in sitemaps if s.url not in known_feeds
                  and (s.modified_at is None or s.modified_at >= window[0])]
        taken = list(dict.fromkeys(listed))[:sitemap_room]
        if len(taken) < len(set(listed)):
            counts["items_cut"] += len(set(listed)) - len(taken)
            log.warning("%s: %s: %d sitemaps not read (NEWS_ETL_MAX_FEED_ITEMS=%d sitemaps per extract)",
                        source.name, url, len(set(listed)) - len(taken), settings.max_feed_items)
        sitemap_room -= len(taken)
        known_feeds.update(taken)
        feed_urls.extend(taken)
        for item in feed_items:
            try:
                link = normalize_url(item.link) if item.link and is_http_url(item.link) else None
            except ValueError as exc:  # a port out of range, a broken [IPv6] host: this item alone
                fetch_log.append({"run_id": run.run_id, "source": source.name, "kind": "page", "url": item.link,
                                  "outcome": "failed", "error": f"link in feed {url}: {exc}",
                                  "fetched_at": datetime.now(timezone.utc)})
                continue
            if link and _in_window(item, window):
                items.setdefault(link, item)
    return counts, items, errors


def _fetch_pages(source: Source, run: Run, fetcher: Fetcher, fetch_log: list[dict], budget: ByteBudget,
                 items: dict[str, FeedItem], filing: Filing) -> dict:
    """Fetch the pages of the items the warehouse and the day's archive do not hold yet, at most
    NEWS_ETL_MAX_PAGES_PER_DAY of them (in feed order) and until the extract's bytes reach
    NEWS_ETL_MAX_BYTES_PER_DAY; the pages not fetched are counted (pages_cut), not logged one by one."""
    archive, settings = run.archive, run.settings
    with warehouse.connect(run.dsn) as conn:
        known = warehouse.known_urls(conn, source.name, list(items))
    new_urls = [u for u in items if u not in known and not archive.has_page(source.name, run.day, u)]
    counts = dict(articles_found=len(items), articles_fetched=0, fetch_failed=0, pages_cut=0)
    if len(new_urls) > settings.max_pages_per_day:
        log.warning("%s: %d new pages, only the first %d fetched (NEWS_ETL_MAX_PAGES_PER_DAY)", source.name,
                    len(new_urls), settings.max_pages_per_day)
    to_fetch = new_urls[:settings.max_pages_per_day]
    done = 0
    # Pages on several hosts are fetched from each at once; every response is archived as it
    # comes, so the run's HTML is never all in memory.
    for url, resp in fetcher.get_many(to_fetch):
        done += 1
        entry = {"run_id": run.run_id, "source": source.name, "kind": "page", "url": url}
        fetch_log.append(entry)
        if isinstance(resp, FetchError):
            counts["fetch_failed"] += 1
            entry.update(outcome="failed", error=str(resp), fetched_at=datetime.now(timezone.utc))
        else:
            budget.spend(len(resp.body))
            ref = _archive(entry, lambda: filing.put(PAGES, resp, feed_item=_item_dict(items[url])))
            counts["articles_fetched"] += 1
            entry.update(outcome="ok", final_url=resp.final_url, http_status=resp.status, bytes=len(resp.body),
                         elapsed_ms=resp.elapsed_ms, raw_ref=ref, fetched_at=resp.fetched_at)
        if budget.spent() and done < len(to_fetch):
            log.warning("%s: %s: %d new pages not fetched", source.name, budget.reason(), len(to_fetch) - done)
            break  # leaving get_many stops its workers; the pages they fetched meanwhile are dropped
    counts["pages_cut"] = len(new_urls) - done
    return counts


def _archive(entry: dict, put):
    """Store a response; a write that fails (disk full, read-only) is logged against the URL and
    fails the extract, so the day is not marked complete and a re-run fetches what is missing."""
    try:
        return put()
    except OSError as exc:
        entry.update(outcome="failed", error=f"archive write failed: {type(exc).__name__}: {exc}",
                     fetched_at=entry.get("fetched_at") or datetime.now(timezone.utc))
        raise


class ByteBudget:
    """The bytes one extract of a source and day may still fetch (NEWS_ETL_MAX_BYTES_PER_DAY):
    once spent, no further feed or page is asked for. A response under way is kept whole (each
    is capped by NEWS_ETL_MAX_RESPONSE_BYTES), so the total stays under the cap plus one response."""

    def __init__(self, cap: int):
        self.cap, self.used = cap, 0

    def spend(self, size: int) -> None:
        self.used += size

    def spent(self) -> bool:
        return self.used >= self.cap

    def reason(self) -> str:
        return f"the source's {self.cap}-byte cap for the day (NEWS_ETL_MAX_BYTES_PER_DAY) is reached"


def _in_window(item: FeedItem, window: tuple[datetime, datetime]) -> bool:
    """Items without a date are kept: their page says when they were published."""
    return item.published_at is None or window[0] <= item.published_at < window[1]


def _item_dict(item: FeedItem) -> dict:
    return {
        "title": item.title,
        "link": item.link,
        "guid": item.guid,
        "published_at": isoformat(item.published_at) if item.published_at else None,
        "published_at_offset_known": item.published_offset_known,
        "published_raw": item.published_raw,
    }


# --- transform -------------------------------------------------------------------------------------

@records_failure
def transform(source: Source, run: Run) -> dict:
    """Parse every archived page of the source and day into records and stage them. Pure parsing
    over stored bytes, so a re-run (or a backfill) gives the same records. A page that cannot be
    parsed is staged with its error, so the checks quarantine it instead of losing it."""
    archive = run.archive
    records, failed = [], 0
    for entry in archive.entries(source.name, run.day, PAGES):
        data = archive.read(entry.ref)
        try:
            parsed, error = parse_article(data, url=entry.url, source=source,
                                          content_type=entry.headers.get("content-type")), None
        except PageError as exc:
            parsed, error = None, str(exc)
        except Exception as exc:  # a parser bug must not lose the page: it is quarantined with the error
            log.exception("parsing %s failed", entry.url)
            parsed, error = None, f"{entry.url}: parser error {type(exc).__name__}: {exc}"
        failed += error is not None
        records.append(article_record(source, entry.url, parsed, feed_item=entry.feed_item,
                                      raw_ref=entry.ref, parse_error=error))
    with warehouse.connect(run.dsn) as conn:
        staged = warehouse.stage_records(conn, run.run_id, source.name, run.day, records)
        warehouse.record_run(conn, run.run_id, source.name, run.day, parsed=staged - failed, parse_failed=failed)
    return {"source": source.name, "parsed": staged - failed, "parse_failed": failed}


# --- check -------------------------------------------------------------------------------------------

@records_failure
def check(source: Source, run: Run, now: datetime | None = None, *, alone: bool = True,
          validated: quality.Validated | None = None) -> dict:
    """The source's quality suite on the staged rows: failing rows go to quarantine with their
    reasons; raises QualityGateError (the load must not run) when the gate blocks the source.
    Checked `alone` (the default), the Data Docs index is rebuilt and the checks' connection
    closed right after; a shard's check task passes alone=False and calls finish_checks once,
    after its last source. `validated`: the source's results from check_together."""
    try:
        with warehouse.connect(run.dsn) as conn:
            report = check_staged(
                conn, _checks_url(run), run.run_id, source, run.day, load_suite(source.name),
                now=now or datetime.now(timezone.utc),
                lookback_days=run.settings.lookback_days,
                clock_skew=timedelta(minutes=run.settings.clock_skew_minutes),
                docs_dir=run.settings.data_docs_root, validated=validated,
            )
            warehouse.record_run(conn, run.run_id, source.name, run.day, passed=report.passed,
                                 quarantined=report.quarantined,
                                 data_docs=str(report.data_docs) if report.data_docs else None)
    finally:
        if alone:
            finish_checks(run)
    log.info("%s: %d rows checked, %d passed, %d quarantined; Data Docs: %s", source.name, report.checked,
             report.passed, report.quarantined, report.data_docs)
    if report.failed_checks():
        log.warning("%s: failed checks: %s", source.name, report.failed_checks())
    blocking = report.blocking()
    if blocking:
        raise QualityGateError(f"source {source.name}: load blocked by the quality gate: {'; '.join(blocking)}. "
                               f"Failed checks: {report.failed_checks()}. Data Docs: {report.data_docs}")
    return {"source": source.name, "passed": report.passed, "quarantined": report.quarantined}


def check_together(sources: list[Source], run: Run, now: datetime) -> dict[str, quality.Validated]:
    """Great Expectations once for a shard's sources (quality.check_together): each source's
    results, for its own check. A source left out (its suite does not
    load, or it cannot share the validation), or all of them when the shared validation fails, is
    validated alone by its check, so that its error stays its own."""
    suites = []
    for source in sources:
        try:
            suites.append((source, load_suite(source.name)))
        except Exception:  # the source's own check reports it
            continue
    try:
        with warehouse.connect(run.dsn) as conn:
            return quality.check_together(
                conn, _checks_url(run), run.run_id, suites, run.day, now=now,
                lookback_days=run.settings.lookback_days,
                clock_skew=timedelta(minutes=run.settings.clock_skew_minutes),
                docs_dir=run.settings.data_docs_root)
    except Exception:
        log.exception("the shard's sources could not be validated together; each is validated alone")
        return {}


def finish_checks(run: Run) -> Path | None:
    """After the checks of a batch of sources: the Data Docs index rebuilt (its failure logged,
    never raised) and the checks' connection to the warehouse closed. Returns the index."""
    return quality.finish_checks(_checks_url(run), run.settings.data_docs_root)


def _checks_url(run: Run) -> str:
    # One name whichever task checks: it is also the key of the process's Great Expectations set-up.
    return warehouse.sqlalchemy_url(warehouse.session_dsn(run.dsn, application="news-etl check"))


# --- load ----------------------------------------------------------------------------------------------

@records_failure
def load(source: Source, run: Run) -> dict:
    """Merge the passed rows into the warehouse in one transaction; re-running changes nothing.
    Two short transactions come first: the watched terms in step with their file, and the monthly
    partitions the rows need."""
    terms = load_watch_terms()
    with warehouse.connect(run.dsn) as conn:
        warehouse.sync_watch_terms(conn, terms)
    with warehouse.connect(run.dsn) as conn:
        warehouse.add_article_months(conn, run.run_id, source.name,
                                     collection_window(run.day, source, run.settings.lookback_days))
    with warehouse.connect(run.dsn) as conn:
        warehouse.upsert_source(conn, name=source.name, title=source.title, timezone=source.timezone.key,
                                has_story_codes=source.story_codes is not None)
        inserted, updated = warehouse.merge_articles(conn, run.run_id, source.name)
        warehouse.cluster_stories(conn)
        # A day with nothing in the archive is not a failure, but it must be visible.
        no_data = warehouse.staged_rows(conn, run.run_id, source.name) == 0
        warehouse.record_run(conn, run.run_id, source.name, run.day, loaded_new=inserted, loaded_updated=updated,
                             status="no_data" if no_data else "success",
                             message=f"no raw data for {run.day}" if no_data else "", finished=True)
    return {"source": source.name, "loaded_new": inserted, "loaded_updated": updated}


# --- summary ---------------------------------------------------------------------------------------

SUMMARY_COLUMNS = ("source", "status", "partial", "feeds_fetched", "feeds_not_modified", "feeds_failed", "articles_found",
                   "articles_fetched", "parsed", "parse_failed", "passed", "quarantined", "loaded_new",
                   "loaded_updated", "message", "data_docs")


def run_summary(dsn: str, run_id: str) -> list[dict]:
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        # A run stopped (Ctrl-C) before its plan task migrated a fresh warehouse has no rows yet.
        cur.execute("SELECT to_regclass('news.etl_run') IS NULL")
        if cur.fetchone()[0]:
            return []
        # The latest attempt of each source (the earlier ones stay in news.etl_run).
        cur.execute(f"SELECT DISTINCT ON (source) {', '.join(SUMMARY_COLUMNS)} FROM news.etl_run "
                    "WHERE run_id = %s ORDER BY source, attempt_id DESC", (run_id,))
        return [dict(zip(SUMMARY_COLUMNS, row)) for row in cur.fetchall()]


def run_day(context) -> date:
    """The day a run collects: the `date` param if given, else the run's logical date (a scheduled
    or backfill run's interval start; what `airflow dags test news_daily 2024-03-01` says), else the
    day the run was created (runs triggered without a logical date)."""
    wanted = (context.get("params") or {}).get("date")
    if wanted:
        return date.fromisoformat(str(wanted))
    moment = context.get("logical_date") or context["dag_run"].run_after
    return moment.date()


def run_for(context) -> Run:
    """The Run of an Airflow task context: its id, its day, the warehouse and the settings."""
    settings = Settings.from_env()
    return Run(run_id=context["run_id"], day=run_day(context), settings=settings,
               dsn=warehouse.resolve_dsn(settings, in_airflow_task=True),
               refetch=bool((context.get("params") or {}).get("refetch")),
               reprocess=bool((context.get("params") or {}).get("reprocess")))
