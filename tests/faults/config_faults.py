"""Faults of parsing and configuration: feeds built to make a parser take quadratic time, a source
rule regex that backtracks without end, hostile source files, and what the deployment exposes.

Web faults: a feed whose title, description or prolog repeats an unclosed opening 100,000 times
(each once took minutes); the feed parses in linear time and its story loads (junk before the root
is a FeedError, as quickly). Scenarios: a rule
regex that runs out of time on one page quarantines that page only; each kind of bad source file is
a ConfigError naming file and key; a source file cannot copy a non-NEWS_* variable into a URL;
`make airflow`'s log server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

from model import Fault, Outcome, Scenario
from server import FaultServer, article_page, rss

from news_etl import pipeline, warehouse
from news_etl.errors import ConfigError
from news_etl.settings import Settings
from news_etl.sources import load_source, load_sources

FLOOD = 100_000  # the size of the reported feed: 700 KB of "<script" took 268 s


def _flood_feed(where: str, opening: str):
    """feed(base, extra_path): the extra story's item carries ``opening`` FLOOD times, unclosed."""
    def feed(base: str, extra_path: str) -> tuple[bytes, str | None]:
        flood = opening * FLOOD
        link = f"<link>{base}{extra_path}</link>"
        if where == "title":
            item = f"<item><title><![CDATA[{flood}]]></title>{link}</item>"
            return rss(base, [], extra_items=item), None
        if where == "description":
            item = f"<item><title>Flooded</title><description><![CDATA[{flood}]]></description>{link}</item>"
            return rss(base, [], extra_items=item), None
        # The prolog of a feed that is not well-formed (a bare &), so the repairing parse reads it.
        item = f"<item><title>Fish & chips</title>{link}</item>"
        return f'{flood}<rss version="2.0"><channel><title>t</title>{item}</channel></rss>'.encode(), None
    return feed


FAULTS = [
    Fault("flood-script-in-cdata-title", "feed", "ok", loads_extra=1, cls="linear-time parsing",
          feed=_flood_feed("title", "<script")),
    Fault("flood-style-in-description", "feed", "ok", loads_extra=1, cls="linear-time parsing",
          feed=_flood_feed("description", "<style ")),
    Fault("flood-comment-in-cdata-title", "feed", "ok", loads_extra=1, cls="linear-time parsing",
          feed=_flood_feed("title", "<!--")),
    Fault("flood-unclosed-tag-in-title", "feed", "ok", loads_extra=1, cls="linear-time parsing",
          feed=_flood_feed("title", "<a" + "b" * 9)),
    # Junk before the root is not a feed: a FeedError, in linear time (0.25 s), no longer minutes.
    Fault("flood-cdata-openings-in-prolog", "feed", "failed", r"not an RSS, RDF or Atom feed or a sitemap \(not XML",
          cls="linear-time parsing", feed=_flood_feed("prolog", "<![CDATA[")),
    Fault("flood-doctypes-in-prolog", "feed", "failed", r"not an RSS, RDF or Atom feed or a sitemap \(root element",
          cls="linear-time parsing", feed=_flood_feed("prolog", "<!DOCTYPE a ")),
]


# --- a rule regex that backtracks without end ---------------------------------------------------------

DAY = date(2024, 3, 1)
NOW = datetime(2024, 3, 2, tzinfo=timezone.utc)
GOOD_CODES = ("2000001", "2000002", "2000003", "2000004")  # one bad in five: under the 20% threshold
HOSTILE_CODE = "2000009"
# Reads "Code: 2000001" at once; on "aaaa…a!" (a|aa)+$ tries every way to split the a's: 2^n.
BACKTRACKING_SOURCE = """
name: {name}
timezone: Asia/Tehran
language: en
crawl_delay: 0
feeds: [{feed}]
story_codes: {{pattern: '\\d{{7}}'}}
rules:
  title: //h1
  published: {{xpath: '//div[@class="date"]', format: '%d %B %Y %H:%M'}}
  story_code: {{xpath: '//div[@class="code"]', regex: 'Code: (\\d+)|(a|aa)+$'}}
  body: //div[@class="body"]
"""


def _settings(work_dir: Path) -> Settings:
    return dataclasses.replace(Settings.from_env(), state_dir=work_dir / "state",
                               archive_root=str(work_dir / "state" / "archive"), retries=0,
                               connect_timeout=1, read_timeout=1, total_timeout=3, allow_hosts=("127.0.0.1",))


def _rule_regex_backtracks(work_dir: Path, dsn: str) -> Outcome:
    server = FaultServer({})
    try:
        pages = [f"/regex/good/{code}" for code in GOOD_CODES]
        for path, code in zip(pages, GOOD_CODES):
            server.good_pages[path] = article_page(f"Good story {code}", code)
        hostile = f"/regex/hostile/{HOSTILE_CODE}"
        server.good_pages[hostile] = article_page("Hostile", HOSTILE_CODE).replace(
            f"Code: {HOSTILE_CODE}".encode(), b"a" * 48 + b"!")
        server.feeds["/regex/feed.xml"] = (rss(server.base, [*pages, hostile]), None)
        path = work_dir / "backtracking.yaml"
        path.write_text(BACKTRACKING_SOURCE.format(name="regex-backtracks", feed=f"{server.base}/regex/feed.xml"))
        source = load_source(path)
        run = pipeline.Run(run_id="faults-rule-regex", day=DAY, dsn=dsn, settings=_settings(work_dir))
        started = time.monotonic()
        pipeline.extract(source, run, now=NOW)
        transformed = pipeline.transform(source, run)
        transform_seconds = time.monotonic() - started
        pipeline.check(source, run, now=NOW)
        pipeline.load(source, run)
    finally:
        server.close()
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("""SELECT a.story_code FROM news.article a JOIN news.source s USING (source_id)
                       WHERE s.name = %s""", (source.name,))
        loaded = [code for (code,) in cur.fetchall()]
        cur.execute("SELECT count(*), coalesce(string_agg(DISTINCT url, ' '), '') FROM news.quarantine "
                    "WHERE source = %s", (source.name,))
        quarantined, quarantined_urls = cur.fetchone()
        cur.execute("SELECT coalesce(parse_error, '') FROM news.stage_article WHERE source = %s AND url LIKE %s",
                    (source.name, f"%{hostile}"))
        (error,) = cur.fetchone()
    expected_error = (f"{server.base}{hostile}: {path}: key 'rules.story_code.regex': "
                      f"regex 'Code: (\\d+)|(a|aa)+$' took longer than 1 s")
    ok = (sorted(loaded) == sorted(GOOD_CODES) and quarantined == 1 and hostile in quarantined_urls
          and error.startswith(expected_error) and transformed["parse_failed"] == 1 and transform_seconds < 10)
    return Outcome(fault="rule-regex-backtracks", fetch_outcome="page quarantined" if ok else "unexpected",
                   loaded=len(loaded), quarantined=quarantined, ok=ok,
                   rows_lost=len(set(GOOD_CODES) - set(loaded)), rows_duplicated=len(loaded) - len(set(loaded)),
                   detail=f"transform {transform_seconds:.1f} s; {error[:120]}")


# --- hostile source files ----------------------------------------------------------------------------

GOOD_SOURCE = "name: {name}\ntimezone: UTC\nfeeds: [http://127.0.0.1:9/{name}.xml]\n"

# (scenario, the hostile file's text, the key the error must name, what it must say)
SOURCE_FILES = [
    ("source-crawl-delay-nan", GOOD_SOURCE + "crawl_delay: .nan\n", "crawl_delay", "got nan"),
    ("source-crawl-delay-inf", GOOD_SOURCE + "crawl_delay: .inf\n", "crawl_delay", "got inf"),
    ("source-crawl-delay-boolean", GOOD_SOURCE + "crawl_delay: yes\n", "crawl_delay", "got True"),
    ("source-duplicate-key", GOOD_SOURCE + "feeds: [http://127.0.0.1:9/other.xml]\n", "feeds",
     "duplicate key (line 4; first on line 3)"),
    ("source-malformed-url", "name: {name}\ntimezone: UTC\nfeeds: ['http://[::1/feed.xml']\n", "feeds[0]",
     "Invalid IPv6 URL"),
    ("source-port-out-of-range", "name: {name}\ntimezone: UTC\nfeeds: ['http://127.0.0.1:70000/feed.xml']\n",
     "feeds[0]", "Port out of range"),
    ("source-interpolates-a-secret", "name: {name}\ntimezone: UTC\n"
     "feeds: ['http://127.0.0.1:9/?c=${{AIRFLOW_CONN_NEWS_WAREHOUSE}}']\n", "feeds[0]",
     "only environment variables named NEWS_* may be used"),
]


def _source_file_scenario(name: str, text: str, key: str, problem: str) -> Scenario:
    def run(work_dir: Path, dsn: str) -> Outcome:
        folder = work_dir / "sources"
        folder.mkdir(exist_ok=True)
        (folder / "good.yaml").write_text(GOOD_SOURCE.format(name="good"))
        bad = folder / "hostile.yaml"
        bad.write_text(text.format(name="hostile"))
        try:
            load_sources(folder)
        except ConfigError as exc:
            message = str(exc)
            secret = os.environ.get("AIRFLOW_CONN_NEWS_WAREHOUSE")
            ok = message.startswith(f"{bad}: key '{key}': ") and problem in message and not (secret and secret in message)
            return Outcome(fault=name, fetch_outcome="ConfigError" if ok else "wrong error", ok=ok,
                           detail=message.removeprefix(f"{work_dir}/"))
        return Outcome(fault=name, fetch_outcome="loaded (UNEXPECTED)", ok=False, detail="no ConfigError")
    return Scenario(name, "source file validation", f"ConfigError naming the file and key '{key}'", run)


# --- exposure --------------------------------------------------------------------------------------

def _log_server_on_loopback(work_dir: Path, dsn: str) -> Outcome:
    """`make airflow`'s worker log server (news_etl.local_log_server) listens on 127.0.0.1 only."""
    import psutil
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(AIRFLOW_HOME=str(work_dir / "airflow"), AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(port))
    proc = subprocess.Popen([sys.executable, "-m", "news_etl.local_log_server", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, listening = time.monotonic() + 60, []
        while not listening and proc.poll() is None and time.monotonic() < deadline:
            listening = [c.laddr for c in psutil.Process(proc.pid).net_connections(kind="inet")
                         if c.status == psutil.CONN_LISTEN]
            time.sleep(0.1)  # a starting process, polled up to the deadline
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    addresses = sorted({f"{a.ip}:{a.port}" for a in listening})
    ok = addresses == [f"127.0.0.1:{port}"]
    return Outcome(fault="log-server-on-loopback", fetch_outcome="127.0.0.1 only" if ok else "exposed",
                   ok=ok, detail=f"listening on {', '.join(addresses) or 'nothing'}")


SCENARIOS = [
    Scenario("rule-regex-backtracks", "rule regex time limit",
             "the page the regex runs out of time on is quarantined with the reason; the others load",
             _rule_regex_backtracks),
    *[_source_file_scenario(*case) for case in SOURCE_FILES],
    Scenario("log-server-on-loopback", "exposure", "make airflow's log server listens on 127.0.0.1 only",
             _log_server_on_loopback),
]
