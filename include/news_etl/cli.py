"""`news-etl`: the command line. Parsers for debugging a source, the warehouse, the local run.

    news-etl run [--date D]                 one daily run of news_daily through Airflow, with a summary
    news-etl airflow                        a full local Airflow (UI, scheduler, ...) until Ctrl-C
    news-etl parse-article [--source NAME] [--url URL] FILE...
    news-etl parse-feed [--timezone TZ] FILE...
    news-etl db upgrade | db url | db stop
    news-etl stories backfill [--since D]   sign and cluster the articles in no story yet
    news-etl dq report --date D             the day's data-quality results per source and check
    news-etl digest --date D                the day's digest, an HTML page in the reports folder
    news-etl search TERMS [--since D]       articles matching the words, newest first (full text)
    news-etl sources                        the sources a run collects, and those it leaves out
    news-etl sample-sites [--port P]        the offline sample publishers
    news-etl archive list [--source S]      what the raw archive holds per source and day
    news-etl archive export --source S --date D [-o FILE]   a day as one WARC file
    news-etl archive verify [--source S] [--date D]         every WARC record readable, digests right
    news-etl archive convert [--source S]   days of the layout before WARC, written as WARC too
    news-etl backfill-ccnews --start D --end D  file past days from Common Crawl's news crawl

`--json` (run, dq report, search, sources) prints JSON instead of a table. Exit status: 0 when
everything ran (a source with no data for the day included), 1 when something failed, 2 for a
usage error (a bad argument, a day that has not started), 78 for a configuration error (a
source file, a setting; sysexits' EX_CONFIG).
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import sys
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

from news_etl import INCLUDE_DIR, __version__
from news_etl.errors import ConfigError, NewsEtlError

EXIT_FAILED, EXIT_USAGE, EXIT_CONFIG = 1, 2, 78


class UsageError(NewsEtlError):
    """An argument the command cannot act on (exit status 2, as argparse's own)."""


def main(argv: list[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()  # here, so that a reader gone away is seen here too
        return code
    except BrokenPipeError:
        # The reader went away (`news-etl search x | head`): no traceback, and no second error
        # when Python flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="news-etl", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"news-etl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run news_daily once through Airflow for one day, then print a summary")
    p.add_argument("--date", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today, UTC)")
    p.add_argument("--reprocess", action="store_true",
                   help="transform, check and load every source again even if nothing changed since its last load")
    p.add_argument("--json", action="store_true", help="print the summary as JSON (progress goes to stderr)")
    p.set_defaults(func=_run)

    p = sub.add_parser("sources", help="the sources a run collects, and those left out with their file's error")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_sources)
    checks = p.add_subparsers(dest="sources_command", metavar="check")
    c = checks.add_parser("check", help="validate every source file and its suite, as a run's plan task does; "
                                        "each error names the file and the key")
    c.add_argument("directories", nargs="*", type=Path,
                   help="source lists to check (default: $NEWS_ETL_SOURCES or the sample list)")
    c.set_defaults(func=_sources_check)

    p = sub.add_parser("airflow", help="run a full local Airflow with this project's DAGs until Ctrl-C: "
                                       "api-server (UI), scheduler, dag-processor, triggerer")
    p.set_defaults(func=_airflow)

    p = sub.add_parser("parse-article", help="parse article pages; one JSON object per line")
    p.add_argument("--source", help="source name or source file: apply its rules (default: generic extractor)")
    p.add_argument("--url", help="the page's URL (resolves relative links, story codes in URLs)")
    p.add_argument("files", nargs="+", metavar="FILE", help="HTML files (.gz is decompressed; - reads paths from stdin)")
    p.set_defaults(func=_parse_article)

    p = sub.add_parser("parse-feed", help="parse RSS/Atom/RDF feeds; one JSON object per item")
    p.add_argument("--timezone", help="IANA zone for dates without an offset")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=_parse_feed)

    p = sub.add_parser("db", help="the warehouse")
    p.add_argument("action", choices=["upgrade", "url", "stop"],
                   help="upgrade: apply migrations; url: print the DSN; stop: stop the embedded server")
    p.set_defaults(func=_db)

    p = sub.add_parser("stories", help="story clusters")
    p.add_argument("action", choices=["backfill"],
                   help="backfill: sign and cluster the articles in no story yet (loaded before stories were)")
    p.add_argument("--since", type=date.fromisoformat, default=None,
                   help="only articles published on or after this UTC day, YYYY-MM-DD (default: all)")
    p.add_argument("--batch", type=int, default=500, help="articles per transaction (default 500)")
    p.set_defaults(func=_stories)

    p = sub.add_parser("dq", help="data-quality results")
    p.add_argument("action", choices=["report"], help="report: the day's results per source and check")
    p.add_argument("--date", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_dq)

    p = sub.add_parser("search", help="articles matching the words, newest first: source, date, title, URL")
    p.add_argument("terms", help='web-search syntax: north korea, "north korea", pyongyang or dprk, -sport')
    p.add_argument("--since", type=date.fromisoformat, default=None,
                   help="published on or after this UTC day, YYYY-MM-DD (default: 30 days ago)")
    p.add_argument("--limit", type=int, default=50, help="at most this many articles (default 50)")
    p.add_argument("--json", action="store_true", help="one JSON object per article, one a line")
    p.set_defaults(func=_search)

    p = sub.add_parser("digest", help="write the daily digest (HTML) for one day")
    p.add_argument("--date", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    p.set_defaults(func=_digest)

    p = sub.add_parser("sample-sites", help="serve the sample publishers on 127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="default: $NEWS_SAMPLE_PORT, else 8750")
    p.add_argument("--now", help="pin the server's clock (ISO 8601)")
    p.set_defaults(func=_sample_sites)

    p = sub.add_parser("archive", help="the raw archive (WARC): list, export, verify, convert")
    p.add_argument("action", choices=["list", "export", "verify", "convert"],
                   help="list: per source and day; export: a day as one WARC; verify: records and digests; "
                        "convert: old-layout days to WARC")
    p.add_argument("--source", default=None, help="one source (export: required)")
    p.add_argument("--date", type=date.fromisoformat, default=None, help="YYYY-MM-DD (export: required)")
    p.add_argument("-o", "--output", default=None, help="export: the file to write (default: stdout)")
    p.add_argument("--json", action="store_true", help="list: print JSON instead of a table")
    p.set_defaults(func=_archive)

    p = sub.add_parser("backfill-ccnews", help="file the sources' pages of past days from CC-NEWS into the archive")
    p.add_argument("--start", type=date.fromisoformat, required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--end", type=date.fromisoformat, required=True, help="last day, YYYY-MM-DD")
    p.add_argument("--base-url", default=None, help="the crawl's base URL (default: $NEWS_ETL_CCNEWS_URL, "
                                                     "else https://data.commoncrawl.org)")
    p.set_defaults(func=_backfill_ccnews)

    args = parser.parse_args(argv)
    try:
        with _logs_to_stderr():
            return args.func(args)
    except NewsEtlError as exc:
        print(f"news-etl: {exc}", file=sys.stderr)
        return EXIT_CONFIG if isinstance(exc, ConfigError) else EXIT_USAGE if isinstance(exc, UsageError) \
            else EXIT_FAILED
    except KeyboardInterrupt:
        return 130


@contextmanager
def _logs_to_stderr() -> Iterator[None]:
    """The package's log lines go to stderr while a command runs: stdout is the command's output
    (a table, --json) alone. Airflow, which some commands import (Connection parsing, the REST
    API), points the root logger at stdout."""
    logger = logging.getLogger("news_etl")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    saved = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = saved[0]
        logger.setLevel(saved[1])


def _paths(files: list[str]) -> Iterator[str]:
    for f in files:
        if f == "-":
            yield from (line.strip() for line in sys.stdin if line.strip())
        else:
            yield f


def _read(path: str) -> bytes:
    data = Path(path).read_bytes()
    return gzip.decompress(data) if path.endswith(".gz") else data


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _print_json(value) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def find_source(name_or_path: str):
    """A source by file path, or by name in $NEWS_ETL_SOURCES and every list under include/sources."""
    from news_etl.sources import load_source, sources_dir

    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return load_source(path)
    for directory in [sources_dir(), *sorted((INCLUDE_DIR / "sources").iterdir())]:
        candidate = Path(directory) / f"{name_or_path}.yaml"
        if candidate.is_file():
            return load_source(candidate)
    raise UsageError(f"source '{name_or_path}' not found (give a name from include/sources/ or a .yaml path)")


def _parse_article(args) -> int:
    from news_etl.articles import parse_article
    from news_etl.dates import isoformat

    source = find_source(args.source) if args.source else None
    failed = False
    for path in _paths(args.files):
        out = {"path": path, "title": None, "published_at": None, "published_at_offset_known": None,
               "story_code": None, "authors": [],
               "body": None, "language": None, "canonical_url": None, "error": None}
        try:
            a = parse_article(_read(path), url=args.url, source=source)
            out.update(title=a.title, published_at=isoformat(a.published_at) if a.published_at else None,
                       published_at_offset_known=a.published_at_offset_known,
                       story_code=a.story_code, authors=list(a.authors), body=a.body, language=a.language,
                       canonical_url=a.canonical_url)
        except (OSError, NewsEtlError) as exc:
            out["error"] = str(exc) if isinstance(exc, NewsEtlError) else f"{path}: {exc}"
            failed = True
        _emit(out)
    return 1 if failed else 0


def _parse_feed(args) -> int:
    from news_etl.dates import isoformat
    from news_etl.feeds import parse_feed

    failed = False
    for path in _paths(args.files):
        try:
            feed = parse_feed(_read(path), url=path, tz=args.timezone)
        except (OSError, NewsEtlError) as exc:
            _emit({"path": path, "error": str(exc)})
            failed = True
            continue
        for item in feed.items:
            _emit({"path": path, "title": item.title, "link": item.link, "guid": item.guid,
                   "published_at": isoformat(item.published_at) if item.published_at else None,
                   "published_at_offset_known": item.published_offset_known})
    return 1 if failed else 0


def _db(args) -> int:
    from news_etl import embedded, warehouse
    from news_etl.settings import Settings

    settings = Settings.from_env()
    if args.action == "stop":
        stopped = embedded.stop(settings.state_dir / "warehouse")
        print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
        return 0
    dsn = warehouse.resolve_dsn(settings)
    if args.action == "url":
        print(dsn)
        return 0
    applied = warehouse.upgrade(dsn)
    print(f"applied: {', '.join(applied)}" if applied else "warehouse schema is up to date")
    return 0


def _stories(args) -> int:
    from news_etl import warehouse

    if args.batch < 1:
        raise UsageError(f"--batch {args.batch}: give at least 1 article per transaction")
    since = datetime.combine(args.since, datetime.min.time(), timezone.utc) if args.since else None
    signed = warehouse.backfill_stories(warehouse.resolve_dsn(), since=since, batch=args.batch)
    print(f"{signed} articles signed and put in stories" if signed else "every article is in a story already")
    return 0


def _dq(args) -> int:
    from news_etl import warehouse
    from news_etl.quality import dq_report
    from news_etl.settings import Settings

    with warehouse.connect(warehouse.resolve_dsn()) as conn:
        rows = dq_report(conn, args.date)
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print(f"no data-quality results for {args.date}")
        return 0
    headers = ("source", "status", "check", "action", "result", "rows", "failed", "observed")
    table = [headers] + [
        (r["source"], r["status"], r["check_id"] or "", r["action"] or "", "ok" if r["success"] else "FAILED",
         "" if r["element_count"] is None else str(r["element_count"]),
         "" if r["unexpected_count"] is None else str(r["unexpected_count"]),
         "" if r["observed_value"] is None else json.dumps(r["observed_value"]))
        for r in rows
    ]
    print(format_table(table))
    pages = {r["source"]: r["data_docs"] for r in rows if r["data_docs"]}
    print(f"\nData Docs: {Settings.from_env().data_docs_root / 'index.html'}")
    print("\n".join(f"  {source}: {page}" for source, page in pages.items()))
    return 0


def _digest(args) -> int:
    from news_etl import warehouse
    from news_etl.digest import write_digest
    from news_etl.settings import Settings

    settings = Settings.from_env()
    print(write_digest(warehouse.resolve_dsn(settings), args.date, settings.reports_dir))
    return 0


def format_table(table: list[tuple[str, ...]]) -> str:
    """Plain-text table: a header row, a rule, then the rows, columns padded to fit."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _search(args) -> int:
    """The documented query include/sql/queries/search_articles.sql, as a table."""
    from news_etl import warehouse

    since = args.since or datetime.now(timezone.utc).date() - timedelta(days=30)
    with warehouse.connect(warehouse.resolve_dsn()) as conn:
        _, found = warehouse.run_query(conn, "search_articles", terms=args.terms, since=since, limit=args.limit)
    if args.json:
        for s, d, t, u in found:
            _emit({"source": s, "date": d.isoformat(), "title": t, "url": u})
        return 0
    if not found:
        print(f"no articles match {args.terms!r} since {since}")
        return 0
    print(format_table([("source", "date", "title", "url")] + [(s, d.isoformat(), t, u) for s, d, t, u in found]))
    return 0


def _sample_sites(args) -> int:
    from news_etl.local_run import sample_port
    from news_etl.sample_sites.server import main as serve

    port = args.port if args.port is not None else sample_port()
    return serve(["--port", str(port)] + (["--now", args.now] if args.now else []))


def _sources(args) -> int:
    from news_etl.pipeline import runnable_sources

    runnable, left_out = runnable_sources()
    if args.json:
        _print_json({"sources": [{"name": s.name, "title": s.title, "timezone": s.timezone.key, "file": str(s.path),
                                  "feeds": list(s.feeds)} for s in runnable.values()],
                     "left_out": [{"file": name, "error": error} for name, error in left_out.items()]})
    else:
        print(format_table([("source", "time zone", "feeds", "file")] + [
            (s.name, s.timezone.key, str(len(s.feeds)), str(s.path)) for s in runnable.values()]))
        for error in left_out.values():
            print(f"left out: {error}", file=sys.stderr)
    return EXIT_CONFIG if left_out else 0


def _sources_check(args) -> int:
    """What news_daily's plan task does with a source list, without a run: the DAG file reads no
    source, so this (run by CI on every list in the repository) is where a bad file shows first."""
    from news_etl.pipeline import runnable_sources
    from news_etl.sources import sources_dir

    bad = 0
    for directory in args.directories or [sources_dir()]:
        runnable, left_out = runnable_sources(directory)
        for error in left_out.values():
            print(f"news-etl: {error}", file=sys.stderr)
        print(f"{directory}: {len(runnable)} sources ok" + (f", {len(left_out)} left out" if left_out else ""))
        bad += len(left_out)
    return EXIT_CONFIG if bad else 0


def _archive(args) -> int:
    from news_etl import archive_tools
    from news_etl.archive import Archive
    from news_etl.settings import Settings

    archive = Archive(Settings.from_env().archive_root)
    if args.action == "list":
        rows = archive_tools.listing(archive, args.source)
        if args.json:
            _print_json([r.__dict__ for r in rows])
            return 0
        table = [("source", "day", "pages", "feeds", "warc files", "complete", "old layout")] + [
            (r.source, r.day.isoformat(), str(r.pages), str(r.feeds), str(r.warc_files),
             "yes" if r.complete else "no", "yes" if r.legacy else "") for r in rows]
        print(format_table(table) if rows else f"the archive {archive.root} holds nothing")
        return 0
    if args.action == "export":
        if not (args.source and args.date):
            raise UsageError("archive export needs --source and --date")
        if args.output:
            with open(args.output, "wb") as out:
                count = archive_tools.export_day(archive, args.source, args.date, out)
        else:
            count = archive_tools.export_day(archive, args.source, args.date, sys.stdout.buffer)
        if not count:
            raise NewsEtlError(f"the archive holds nothing of {args.source} on {args.date}")
        print(f"{args.source} {args.date}: {count} responses", file=sys.stderr)
        return 0
    if args.action == "verify":
        checked, problems = archive_tools.verify(archive, args.source, args.date)
        for problem in problems:
            print(problem)
        print(f"{checked} WARC files checked, {len(problems)} problems", file=sys.stderr)
        return EXIT_FAILED if problems else 0
    converted = 0
    for name in [args.source] if args.source else archive.sources():
        for day in [args.date] if args.date else archive.days(name):
            n = archive_tools.convert_day(archive, name, day)
            if n:
                print(f"{name} {day}: {n} responses converted")
            converted += n
    print(f"{converted} responses converted", file=sys.stderr)
    return 0


def _backfill_ccnews(args) -> int:
    from news_etl import ccnews
    from news_etl.pipeline import runnable_sources
    from news_etl.settings import Settings

    sources, _ = runnable_sources()
    run_id = f"backfill-ccnews-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}"
    outcomes = ccnews.backfill(sources.values(), args.start, args.end, Settings.from_env(), run_id, args.base_url)
    for outcome in outcomes:
        print(json.dumps(outcome, sort_keys=True))
    print(f"{len(outcomes)} crawl files read; {sum(o['kept'] for o in outcomes)} pages filed; run news_daily "
          f"(news-etl run --date D) for each day to load them", file=sys.stderr)
    return 0


def _run(args) -> int:
    from news_etl.local_run import run_once
    from news_etl.pipeline import day_has_started, runnable_sources

    runnable, left_out = runnable_sources()
    day = args.date or datetime.now(timezone.utc).date()
    if runnable and not day_has_started(day, list(runnable.values())):
        raise UsageError(f"--date {day}: that day has not started in any source's time zone")
    for error in left_out.values():  # the run goes on without them; its summary says so again
        print(f"news-etl: left out: {error}", file=sys.stderr)
    return run_once(day, reprocess=args.reprocess, as_json=args.json, sources=list(runnable.values()))


def _airflow(args) -> int:
    from news_etl.local_airflow import serve

    return serve()


if __name__ == "__main__":
    sys.exit(main())
