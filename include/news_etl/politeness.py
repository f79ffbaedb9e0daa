"""Politeness towards the sites we read: per-host spacing that holds across parallel tasks, and
robots.txt, fetched once per host per run.

Spacing is a reservation in the warehouse (news.host_turn): each request moves the host's next
free slot on by the delay and waits for its own slot, so tasks in other processes or on other
machines queue behind each other instead of each keeping its own clock.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

import psycopg2.errors
from protego import Protego

from news_etl import warehouse
from news_etl.errors import FetchError

log = logging.getLogger(__name__)

ROBOTS_MAX_BYTES = 512 * 1024
# A Crawl-delay of a day (or 1e9) would hold a fetch worker past its task's timeout and push the
# host's next turn in news.host_turn into next year: longer delays are read as this many seconds.
ROBOTS_MAX_CRAWL_DELAY = 60.0


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
    """robots.txt per site, fetched once per run (shared by the run's tasks through the warehouse).

    An unreachable robots.txt (a 5xx or 429 answer, a network error, a refused address) disallows
    the whole site for now (RFC 9309, 2.3.1.4): that answer is kept in this process only, so the
    next task or retry asks again instead of the run being locked out of the site."""

    def __init__(self, dsn: str | None, run_id: str, user_agent: str, fetch):
        self.dsn = dsn
        self.run_id = run_id
        self.agent = user_agent.split("/")[0]  # the product token robots.txt groups match on
        self.fetch = fetch  # url -> (status, text), raising FetchError
        self._rules: dict[str, tuple[Protego, str]] = {}  # site -> (rules, why everything is disallowed)

    def _site_rules(self, url: str) -> tuple[Protego, str]:
        site = site_of(url)
        if site not in self._rules:
            self._rules[site] = self._load(site)
        return self._rules[site]

    def disallowed(self, url: str) -> str | None:
        """None when `url` may be fetched, else why not (naming the site's robots.txt)."""
        rules, unreachable = self._site_rules(url)
        if rules.can_fetch(url, self.agent):
            return None
        return f"disallowed by robots.txt of {site_of(url)}" + (f" ({unreachable})" if unreachable else "")

    def crawl_delay(self, url: str) -> float:
        """The site's Crawl-delay, at most ROBOTS_MAX_CRAWL_DELAY seconds (inf and nan included)."""
        delay = self._site_rules(url)[0].crawl_delay(self.agent)
        delay = float(delay) if delay else 0.0
        return delay if 0 <= delay <= ROBOTS_MAX_CRAWL_DELAY else ROBOTS_MAX_CRAWL_DELAY

    def _load(self, site: str) -> tuple[Protego, str]:
        if self.dsn is None:
            return parse_robots(*self._fetch(site))
        # One task of the run fetches; the others wait on the lock, then read what it stored. A
        # fetch can take the whole fetch deadline, longer than the lock timeout: a task that waited
        # that long fetches the file itself, and the first answer stored wins.
        try:
            with warehouse.connect(self.dsn) as conn, conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(hashtext('news.robots:' || %s || ' ' || %s))",
                            (self.run_id, site))
                return self._stored_or_fetched(cur, site)
        except psycopg2.errors.LockNotAvailable:
            log.warning("robots.txt of %s: another task of the run is still fetching it; fetching it too", site)
            with warehouse.connect(self.dsn) as conn, conn.cursor() as cur:
                return self._stored_or_fetched(cur, site)

    def _stored_or_fetched(self, cur, site: str) -> tuple[Protego, str]:
        query = "SELECT http_status, body FROM news.robots_txt WHERE run_id = %s AND host = %s"
        cur.execute(query, (self.run_id, site))
        row = cur.fetchone()
        if row is None:
            status, body, error = self._fetch(site)
            if unreachable(status):
                return parse_robots(status, body, error)
            cur.execute("INSERT INTO news.robots_txt (run_id, host, http_status, body) VALUES (%s, %s, %s, %s) "
                        "ON CONFLICT (run_id, host) DO NOTHING", (self.run_id, site, status, body))
            cur.execute(query, (self.run_id, site))
            row = cur.fetchone()
        return parse_robots(*row)

    def _fetch(self, site: str) -> tuple[int | None, str | None, str]:
        try:
            return (*self.fetch(f"{site}/robots.txt"), "")
        except FetchError as exc:
            log.warning("robots.txt of %s unreachable (%s): the site is disallowed for now", site, exc)
            return None, None, str(exc)


def unreachable(status: int | None) -> bool:
    """RFC 9309: no answer, a server error (or 429, which says the same) means "unreachable"."""
    return status is None or status >= 500 or status == 429


def parse_robots(status: int | None, body: str | None, error: str = "") -> tuple[Protego, str]:
    """The rules of a robots.txt response by RFC 9309 (protego: longest match, `*` and `$`,
    fractional Crawl-delay), and, when everything is disallowed because the file was unreachable,
    why. A 2xx is parsed; any other 4xx (a missing file, 401, 403) allows everything; an unreachable
    file disallows everything."""
    if unreachable(status):
        why = f"robots.txt unreachable: {error or f'HTTP {status}'}"
        return Protego.parse("User-agent: *\nDisallow: /\n"), why
    if status >= 400 or body is None:
        return Protego.parse(""), ""
    return Protego.parse(body), ""
