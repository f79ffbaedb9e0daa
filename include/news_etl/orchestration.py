"""What the DAG files share: the `news.articles` Asset, their settings (from the environment only:
they are read at parse time), the failure callback and the load deadline. The only module of the package that imports
Airflow at the top.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import date, timedelta

from airflow.sdk import Asset

from news_etl import pipeline, warehouse
from news_etl.alerts import WebhookNotifier
from news_etl.errors import ConfigError

log = logging.getLogger(__name__)

# Updated by every news_daily run (its summary task); news_digest is scheduled on it.
NEWS_ARTICLES = Asset("news.articles")


@dataclass(frozen=True)
class DagSettings:
    schedule: str              # cron of news_daily; each run covers the interval up to the next one
    timezone: str
    catchup: bool
    max_active_runs: int
    retries: int
    retry_delay: timedelta     # doubled on every retry (exponential backoff)
    # Every wait has a bound: a hung fetch, parse or query fails its task (and is retried) instead of
    # holding a worker slot, and a run that cannot finish is failed instead of blocking max_active_runs.
    task_timeout: timedelta    # execution_timeout of every task of both DAGs (one attempt)
    daily_run_timeout: timedelta   # dagrun_timeout of news_daily (every attempt of every task)
    digest_run_timeout: timedelta  # dagrun_timeout of news_digest
    load_deadline: str | None  # HH:MM on the day after the collected day (schedule's time zone), or None

    def default_args(self, on_failure_callback) -> dict:
        """The tasks' retries, backoff and timeout, the same in every DAG that collects or files."""
        return {"retries": self.retries, "retry_delay": self.retry_delay, "retry_exponential_backoff": True,
                "execution_timeout": self.task_timeout, "on_failure_callback": on_failure_callback}

    @classmethod
    def from_env(cls) -> DagSettings:
        """From the environment only: these are read when a DAG file is parsed, and a Variable read
        then is a metadata-database query in the DAG processor on every parse (and a limit should
        not change while the runs it bounds go on)."""
        def number(name: str, default: int, *, timeout: bool = False) -> int:
            raw = os.environ.get(name, "").strip()
            if not raw:
                return default
            if not raw.isdigit():
                raise ConfigError(f"environment variable {name}={raw!r}: expected a whole number")
            if timeout and int(raw) == 0:
                raise ConfigError(f"environment variable {name}={raw!r}: a timeout must be at least 1 minute")
            return int(raw)

        def minutes(name: str, default: int) -> timedelta:
            return timedelta(minutes=number(name, default, timeout=True))

        return cls(
            schedule=os.environ.get("NEWS_ETL_SCHEDULE") or "0 0 * * *",
            timezone=os.environ.get("NEWS_ETL_SCHEDULE_TIMEZONE") or "UTC",
            catchup=(os.environ.get("NEWS_ETL_CATCHUP") or "false").strip().lower() in ("1", "true", "yes"),
            max_active_runs=number("NEWS_ETL_MAX_ACTIVE_RUNS", 4),
            retries=number("NEWS_ETL_TASK_RETRIES", 2),
            retry_delay=timedelta(seconds=number("NEWS_ETL_RETRY_DELAY_SECONDS", 30)),
            task_timeout=minutes("NEWS_ETL_TASK_TIMEOUT_MINUTES", 60),
            daily_run_timeout=minutes("NEWS_ETL_DAILY_RUN_TIMEOUT_MINUTES", 360),
            digest_run_timeout=minutes("NEWS_ETL_DIGEST_RUN_TIMEOUT_MINUTES", 60),
            load_deadline=_load_deadline(),
        )


def _load_deadline() -> str | None:
    """NEWS_ETL_LOAD_DEADLINE (environment only): the time (HH:MM, in the schedule's time zone) on
    the day after the collected day by which its load must be done; default 06:00, "off" for no deadline."""
    raw = (os.environ.get("NEWS_ETL_LOAD_DEADLINE") or "06:00").strip()
    if raw.lower() == "off":
        return None
    hours, _, minutes = raw.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60 and len(minutes) == 2):
        raise ConfigError(f"environment variable NEWS_ETL_LOAD_DEADLINE={raw!r}: expected a time HH:MM (e.g. 06:00) or 'off'")
    return raw


def load_deadline_alert(settings: DagSettings):
    """The DeadlineAlert of news_daily (None without a deadline): a run not done within
    NEWS_ETL_LOAD_DEADLINE (HH:MM) of being queued is reported through the same webhook notifier as
    failures (from the triggerer). The daily run is queued when its day ends, so with the default
    midnight schedule that is HH:MM the day after. Counted from the queueing, not from the logical
    date: a backfill's runs of old days would all be past such a deadline the moment they are made."""
    if settings.load_deadline is None:
        return None
    from airflow.sdk.definitions.deadline import AsyncCallback, DeadlineAlert, DeadlineReference

    hours, minutes = (int(n) for n in settings.load_deadline.split(":"))
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(hours=hours, minutes=minutes),
        callback=AsyncCallback(WebhookNotifier, kwargs={
            "text": f"news_daily: a run was not done {hours} h {minutes:02d} min after it was queued "
                    f"(NEWS_ETL_LOAD_DEADLINE={settings.load_deadline})",
            "fields": {"dag_id": "news_daily", "alert": "deadline"}}),
        name="news_daily load deadline",
    )


def task_failed(context) -> None:
    """on_failure_callback: a clear one-line reason in news.etl_run (unless the stage already
    wrote one) and the same line through the webhook notifier (the `news_webhook` Connection, if
    configured). A shard's task (the DAG's _shard_stage) records it for the sources of the shard it
    had not run yet (a timeout, a lost warehouse): those it ran recorded their own outcome; "(run)"
    for the other tasks."""
    ti = context["ti"]
    outcome = context.get("shard_outcome")
    if outcome is None or not (outcome.pending or outcome.failed or outcome.blocked or outcome.completed):
        # Not a shard's task, or it failed before reading which of its sources had work: no
        # source's own failure (those done in an earlier try, or unchanged, must stay as they are).
        names, source = ["(run)"], "(run)"
    else:
        names, source = outcome.pending, ", ".join(outcome.pending or [*outcome.failed, *outcome.blocked])
    error = context.get("exception")
    reason = f"{ti.task_id} failed for {source}: {type(error).__name__ if error else 'error'}: {error}"
    reason = reason.splitlines()[0][:1000]
    run = pipeline.run_for(context)
    try:
        with warehouse.connect(run.dsn) as conn:
            for name in names:
                warehouse.record_failure(conn, run.run_id, name, run.day, reason)
    except Exception:  # the warehouse may be what failed; the task log has the error
        log.exception("could not record the failure in news.etl_run")
    _notify(context, reason, source)


def notify_failure(context) -> None:
    """on_failure_callback of a DAG that collects no day (news_backfill_archive): the one-line
    reason through the webhook notifier only, as news.etl_run rows belong to a source and a day."""
    error = context.get("exception")
    reason = f"{context['ti'].task_id} failed: {type(error).__name__ if error else 'error'}: {error}"
    _notify(context, reason.splitlines()[0][:1000], "(run)")


def _notify(context, reason: str, source: str) -> None:
    ti = context["ti"]
    WebhookNotifier(reason, fields={"dag_id": context["dag"].dag_id, "run_id": context["run_id"],
                                    "task_id": ti.task_id, "map_index": ti.map_index, "source": source}).notify(context)


def digest_days(triggering_asset_events) -> list[date]:
    """The days the news_daily runs behind this digest run collected."""
    days = {date.fromisoformat(e.extra["day"]) for events in (triggering_asset_events or {}).values()
            for e in events if (e.extra or {}).get("day")}
    return sorted(days)
