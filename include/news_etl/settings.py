"""Run-time settings, read from the environment once per task, each with a documented default.

The README's configuration table lists the same names; keep the two in step.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from news_etl import PROJECT_DIR
from news_etl.errors import ConfigError


def _number(name: str, default: float, minimum: float = 0) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name}={raw!r}: expected a number") from None
    if value < minimum:
        raise ConfigError(f"environment variable {name}={raw!r}: must be >= {minimum}")
    return value


@dataclass(frozen=True)
class Settings:
    state_dir: Path            # local state: embedded warehouse, Airflow home, archive, logs
    archive_root: str          # raw responses by source and day: a folder or an fsspec URL (s3://…)
    data_docs_root: Path       # Great Expectations Data Docs, a folder per run and source
    reports_dir: Path          # the daily digests
    lookback_days: int         # a run for day D also collects articles of the days before D
    clock_skew_minutes: int    # how far in the future a published_at may be before it is rejected
    user_agent: str
    connect_timeout: float
    read_timeout: float
    max_response_bytes: int    # larger responses are cut off and recorded as failed
    total_timeout: float       # the longest one response may take, however slowly it trickles
    retries: int               # per HTTP request, with exponential backoff
    allow_hosts: tuple[str, ...]  # private/loopback hosts that may be fetched anyway (host[:port] or CIDR)
    obey_robots: bool          # honour robots.txt (Disallow and Crawl-delay for our User-Agent)

    @classmethod
    def from_env(cls) -> Settings:
        state = Path(os.environ.get("NEWS_ETL_STATE_DIR", PROJECT_DIR / ".state"))
        return cls(
            state_dir=state,
            archive_root=os.environ.get("NEWS_ETL_ARCHIVE") or str(state / "archive"),
            data_docs_root=Path(os.environ.get("NEWS_ETL_DATA_DOCS", state / "data_docs")),
            reports_dir=Path(os.environ.get("NEWS_ETL_REPORTS", state / "reports")),
            lookback_days=int(_number("NEWS_ETL_LOOKBACK_DAYS", 1)),
            clock_skew_minutes=int(_number("NEWS_ETL_CLOCK_SKEW_MINUTES", 10)),
            user_agent=os.environ.get(
                "NEWS_ETL_USER_AGENT", "news-etl/0.1 (+https://example.org/news-etl; news monitoring)"
            ),
            connect_timeout=_number("NEWS_ETL_CONNECT_TIMEOUT", 5, minimum=0.1),
            read_timeout=_number("NEWS_ETL_READ_TIMEOUT", 20, minimum=0.1),
            max_response_bytes=int(_number("NEWS_ETL_MAX_RESPONSE_BYTES", 10 * 1024 * 1024, minimum=1024)),
            total_timeout=_number("NEWS_ETL_TOTAL_TIMEOUT", 120, minimum=1),
            retries=int(_number("NEWS_ETL_RETRIES", 2)),
            obey_robots=os.environ.get("NEWS_ETL_OBEY_ROBOTS", "true").strip().lower() not in ("0", "false", "no"),
            allow_hosts=tuple(h.strip() for h in os.environ.get("NEWS_ETL_ALLOW_HOSTS", "").split(",") if h.strip()),
        )
