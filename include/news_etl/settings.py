"""Run-time settings, read once per task, each with a documented default. (The DAG's shape comes
from the environment alone: news_etl.orchestration.DagSettings.)

Every NEWS_ETL_ setting is looked up by `lookup`: the environment variable first, then, inside
an Airflow task, the Airflow Variable of the same name in lower case
(`news_etl_archive` for NEWS_ETL_ARCHIVE), which can be set in the UI (Admin > Variables), with
`airflow variables set`, the REST API or any secrets backend. Outside Airflow (the CLI, tests) only
the environment counts: no metadata database is touched.

The README's configuration table lists the same names; keep the two in step.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from news_etl import PROJECT_DIR
from news_etl.errors import ConfigError


def lookup(name: str) -> str | None:
    """The raw value of setting `name`: the environment variable, else the Airflow Variable
    `name.lower()` when running inside Airflow; None (use the default) when neither is set."""
    value = os.environ.get(name)
    if value:
        return value
    if not _inside_airflow():
        return None
    from airflow.sdk import Variable

    value = Variable.get(name.lower(), default=None)
    return str(value) if value not in (None, "") else None


def _inside_airflow() -> bool:
    """A task process or DAG-file parser: Airflow's Task SDK talks to its supervisor, which serves
    Variables (through the API server or the metadata database). Checked without importing Airflow."""
    task_runner = sys.modules.get("airflow.sdk.execution_time.task_runner")
    return getattr(task_runner, "SUPERVISOR_COMMS", None) is not None


def origin(name: str) -> str:
    """Where setting `name` came from, for error messages."""
    return f"environment variable {name}" if os.environ.get(name) else f"Airflow Variable {name.lower()}"


def _number(name: str, default: float, minimum: float = 0) -> float:
    raw = lookup(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{origin(name)}={raw!r}: expected a number") from None
    if value < minimum:
        raise ConfigError(f"{origin(name)}={raw!r}: must be >= {minimum}")
    return value


def warehouse_timeouts() -> tuple[float, float]:
    """(statement_timeout, lock_timeout) in seconds of every warehouse session: no statement, and
    no wait for a lock another session holds (an analyst's advisory lock included), is unbounded."""
    return (_number("NEWS_ETL_STATEMENT_TIMEOUT", 1800, minimum=1), _number("NEWS_ETL_LOCK_TIMEOUT", 60, minimum=1))


@dataclass(frozen=True)
class Settings:
    state_dir: Path            # local state: embedded warehouse, Airflow home, archive, logs
    archive_root: str          # raw responses by source and day: a folder or an fsspec URL (s3://…)
    data_docs_root: Path       # the Great Expectations Data Docs site (one, with every validation)
    reports_dir: Path          # the daily digests
    lookback_days: int         # a run for day D also collects articles of the days before D
    clock_skew_minutes: int    # how far in the future a published_at may be before it is rejected
    day_lag_minutes: int       # how long after a day ends where a source is its extract is still partial
    user_agent: str
    connect_timeout: float
    read_timeout: float
    max_response_bytes: int    # larger responses are cut off and recorded as failed
    total_timeout: float       # the longest one response may take, however slowly it trickles
    retries: int               # per HTTP request, with exponential backoff
    allow_hosts: tuple[str, ...]  # private/loopback hosts that may be fetched anyway (host[:port] or CIDR)
    obey_robots: bool          # honour robots.txt (Disallow and Crawl-delay for our User-Agent)
    max_feed_items: int        # items (or sitemaps) read from one feed; the rest are cut and counted
    max_pages_per_day: int     # new pages one extract of a source and day fetches
    max_bytes_per_day: int     # bytes (feeds and pages) one extract of a source and day fetches

    @classmethod
    def from_env(cls) -> Settings:
        state = Path(lookup("NEWS_ETL_STATE_DIR") or PROJECT_DIR / ".state")
        return cls(
            state_dir=state,
            archive_root=lookup("NEWS_ETL_ARCHIVE") or str(state / "archive"),
            data_docs_root=Path(lookup("NEWS_ETL_DATA_DOCS") or state / "data_docs"),
            reports_dir=Path(lookup("NEWS_ETL_REPORTS") or state / "reports"),
            lookback_days=int(_number("NEWS_ETL_LOOKBACK_DAYS", 1)),
            clock_skew_minutes=int(_number("NEWS_ETL_CLOCK_SKEW_MINUTES", 10)),
            day_lag_minutes=int(_number("NEWS_ETL_DAY_LAG_MINUTES", 60)),
            user_agent=lookup("NEWS_ETL_USER_AGENT") or "news-etl/0.1 (+https://example.org/news-etl; news monitoring)",
            connect_timeout=_number("NEWS_ETL_CONNECT_TIMEOUT", 5, minimum=0.1),
            read_timeout=_number("NEWS_ETL_READ_TIMEOUT", 20, minimum=0.1),
            max_response_bytes=int(_number("NEWS_ETL_MAX_RESPONSE_BYTES", 10 * 1024 * 1024, minimum=1024)),
            total_timeout=_number("NEWS_ETL_TOTAL_TIMEOUT", 120, minimum=1),
            retries=int(_number("NEWS_ETL_RETRIES", 2)),
            obey_robots=(lookup("NEWS_ETL_OBEY_ROBOTS") or "true").strip().lower() not in ("0", "false", "no"),
            max_feed_items=int(_number("NEWS_ETL_MAX_FEED_ITEMS", 5000, minimum=1)),
            max_pages_per_day=int(_number("NEWS_ETL_MAX_PAGES_PER_DAY", 2000, minimum=1)),
            max_bytes_per_day=int(_number("NEWS_ETL_MAX_BYTES_PER_DAY", 512 * 1024 * 1024, minimum=1024)),
            allow_hosts=tuple(h.strip() for h in (lookup("NEWS_ETL_ALLOW_HOSTS") or "").split(",") if h.strip()),
        )
