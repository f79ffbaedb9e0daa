"""Politeness towards the sites we read: per-host spacing that holds across parallel tasks, and
robots.txt, fetched once per host per run.

Spacing is a reservation in the warehouse (news.host_turn): each request moves the host's next
free slot on by the delay and waits for its own slot, so tasks in other processes or on other
machines queue behind each other instead of each keeping its own clock.
"""

from __future__ import annotations

import logging
import time
import urllib.robotparser
from urllib.parse import urlsplit

from news_etl import warehouse
from news_etl.errors import FetchError

log = logging.getLogger(__name__)

ROBOTS_MAX_BYTES = 512 * 1024


def site_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


class LocalTurns:
    """The same spacing within one process (the CLI, tests without a warehouse)."""

    def __init__(self):
        self._next: dict[str, float] = {}

    def wait(self, host: str, delay: float) -> None:
        if delay <= 0:
            return
        now = time.monotonic()
        turn = max(self._next.get(host, now), now)
        self._next[host] = turn + delay
        if turn > now:
            time.sleep(turn - now)


class HostTurns:
    """Waits for a host's turn, `delay` seconds apart across every task that uses the warehouse."""

    def __init__(self, dsn: str):
        self.dsn = dsn

    def wait(self, host: str, delay: float) -> None:
        if delay <= 0:
            return
        with warehouse.connect(self.dsn) as conn, conn.cursor() as cur:
            cur.execute(warehouse.sql_file("load/take_host_turn.sql"), {"host": host, "delay": delay})
            (wait,) = cur.fetchone()
        if wait > 0:
            time.sleep(wait)


class RobotsRules:
    """robots.txt per site, fetched once per run (shared by the run's tasks through the warehouse)."""

    def __init__(self, dsn: str | None, run_id: str, user_agent: str, fetch):
        self.dsn = dsn
        self.run_id = run_id
        self.agent = user_agent.split("/")[0]  # the product token robots.txt groups match on
        self.fetch = fetch  # url -> (status, text), raising FetchError
        self._parsers: dict[str, urllib.robotparser.RobotFileParser] = {}

    def parser(self, url: str) -> urllib.robotparser.RobotFileParser:
        site = site_of(url)
        if site not in self._parsers:
            self._parsers[site] = self._load(site)
        return self._parsers[site]

    def allowed(self, url: str) -> bool:
        return self.parser(url).can_fetch(self.agent, url)

    def crawl_delay(self, url: str) -> float:
        delay = self.parser(url).crawl_delay(self.agent)
        return float(delay) if delay else 0.0

    def _load(self, site: str) -> urllib.robotparser.RobotFileParser:
        if self.dsn is None:
            return parse_robots(*self._fetch(site))
        # One task of the run fetches; the others wait on the lock, then read what it stored.
        with warehouse.connect(self.dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('news.robots:' || %s || ' ' || %s))",
                        (self.run_id, site))
            cur.execute("SELECT http_status, body FROM news.robots_txt WHERE run_id = %s AND host = %s",
                        (self.run_id, site))
            row = cur.fetchone()
            if row is None:
                row = self._fetch(site)
                cur.execute("INSERT INTO news.robots_txt (run_id, host, http_status, body) VALUES (%s, %s, %s, %s)",
                            (self.run_id, site, *row))
        return parse_robots(*row)

    def _fetch(self, site: str) -> tuple[int | None, str | None]:
        try:
            return self.fetch(f"{site}/robots.txt")
        except FetchError as exc:
            log.info("robots.txt of %s not read (%s): everything is allowed", site, exc)
            return None, None


def parse_robots(status: int | None, body: str | None) -> urllib.robotparser.RobotFileParser:
    """The rules of a robots.txt response, as crawlers read them: 401/403 forbid everything; a
    missing file (or one that could not be read) allows everything."""
    parser = urllib.robotparser.RobotFileParser()
    if status in (401, 403):
        parser.disallow_all = True
    elif status is None or status >= 400 or body is None:
        parser.allow_all = True
    else:
        parser.parse(body.splitlines())
    return parser
