"""Shards: the groups of sources a news_daily run maps its tasks over, so that its number of task
instances stays bounded (at most 4 per shard, plus plan, check_shards and summary) whatever the
number of sources.

`plan_shards` is the run's first task: it reads and validates every source file and suite (the DAG
file reads none), records those left out, and groups the sources with work into NEWS_ETL_SHARDS
shards: all the sources of one host in one shard (so per-host politeness holds in one process),
balanced by size (the articles each source listed in its recent attempts). The checks run on
fewer, larger shards (`check_shards`: whole shards merged, NEWS_ETL_CHECK_SOURCES sources each),
since politeness binds fetching only and each check task pays for setting Great Expectations up.
`run_stage` is one shard's extract, transform, check or load: every source on its own, one
source's failure recorded for that source (news.etl_run) while the rest of the shard goes on; a
retry of the task redoes only the sources whose stage did not complete (news.etl_run.stage_done),
a cleared run redoes them all.
"""

from __future__ import annotations

import heapq
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

from news_etl import pipeline, warehouse
from news_etl.errors import ConfigError, NewsEtlError
from news_etl.quality import QualityGateError
from news_etl.settings import lookup, origin
from news_etl.sources import Source, load_source, load_sources_leaving_out_broken, sources_dir

log = logging.getLogger(__name__)

DEFAULT_MAX_SHARDS = 64
WEIGHT_DAYS = 14  # the past days of attempts a source's size is averaged over
LABEL_LENGTH = 250  # Airflow's rendered map index is at most this long


MAX_SHARDS = 1024  # Airflow's default max_map_length: a longer mapped list fails the whole run
# Sources a check task validates: GX's import and context cost a task some 4 s of CPU (more under
# load) against 0.5 s per source, so with 50 sources the set-up is under a seventh of the task.
DEFAULT_CHECK_SOURCES = 50


def shard_count(n_sources: int) -> int:
    """NEWS_ETL_SHARDS (a whole number >= 1), else min(64, the number of sources); never more
    shards than sources."""
    raw = (lookup("NEWS_ETL_SHARDS") or "").strip()
    if not raw:
        return max(1, min(DEFAULT_MAX_SHARDS, n_sources))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_SHARDS:
        raise ConfigError(f"{origin('NEWS_ETL_SHARDS')}={raw!r}: expected a whole number of shards from 1 to "
                          f"{MAX_SHARDS} (Airflow's max_map_length)")
    return max(1, min(int(raw), n_sources))


def check_shards(fetch_shards: list[list[str]]) -> list[list[str]]:
    """The shards of the check stage: the fetch shards merged, whole, into ceil(sources /
    NEWS_ETL_CHECK_SOURCES) shards (never more than the fetch shards), each fetch shard going to
    the one with the fewest sources so far; names sorted within a shard, shards by their first name."""
    raw = (lookup("NEWS_ETL_CHECK_SOURCES") or "").strip()
    if raw and (not raw.isdigit() or int(raw) < 1):
        raise ConfigError(f"{origin('NEWS_ETL_CHECK_SOURCES')}={raw!r}: expected a whole number of sources "
                          "per check task, at least 1")
    per_task = int(raw) if raw else DEFAULT_CHECK_SOURCES
    count = min(len(fetch_shards), -(-sum(map(len, fetch_shards)) // per_task))
    return _spread(fetch_shards, count, len)


def _spread(groups, count: int, weight) -> list[list[str]]:
    """The groups of names in at most `count` shards, none split: heaviest first, each to the
    lightest shard so far. Empty shards are dropped; names are sorted within a shard, shards by
    their first name."""
    heap = [(0.0, i, []) for i in range(count)]
    for names in sorted(groups, key=lambda g: (-weight(g), g)):
        load, i, shard = heapq.heappop(heap)
        shard.extend(names)
        heapq.heappush(heap, (load + weight(names), i, shard))
    return sorted((sorted(shard) for _, _, shard in heap if shard), key=lambda s: s[0])


def source_hosts(source: Source, day: date) -> set[str]:
    """The hosts (host[:port]) a source's feeds of `day` are on: where politeness is counted."""
    return {urlsplit(url).netloc.lower() for url in source.feed_urls(day)}


def make_shards(sources: list[Source], count: int, weights: dict[str, float], day: date) -> list[list[str]]:
    """At most `count` shards of source names. Sources sharing a host are one group, and a group is
    never split; the groups, heaviest first, each go to the lightest shard so far (a source weighs
    1 + the articles it usually lists, so a source with no history still counts). Empty shards are
    dropped; names are sorted within a shard, shards by their first name."""
    # Union-find over hosts: two sources on one host, or linked through a third, are one group.
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for source in sources:
        keys = [f"source:{source.name}", *(f"host:{h}" for h in source_hosts(source, day))]
        for key in keys[1:]:
            parent[root(key)] = root(keys[0])
    groups: dict[str, list[str]] = {}
    for source in sources:
        groups.setdefault(root(f"source:{source.name}"), []).append(source.name)

    def weight(names: list[str]) -> float:
        return sum(1 + weights.get(name, 0.0) for name in names)

    return _spread(groups.values(), max(1, count), weight)


def plan_shards(run: pipeline.Run, directory: Path | str | None = None) -> list[list[str]]:
    """The run's shards: every source file and suite read and validated here (a bad one leaves out
    its own source, recorded with its file and key), the sources with nothing changed since their
    day's last load left out (pipeline.plan), the rest grouped into shards."""
    with warehouse.reusing_connections(run.dsn):  # a few look-ups per source: one session for all
        return _plan_shards(run, directory)


def _plan_shards(run: pipeline.Run, directory: Path | str | None) -> list[list[str]]:
    sources, left_out = pipeline.runnable_sources(directory)
    pipeline.record_left_out(run, left_out)
    for name, error in left_out.items():
        log.error("%s left out: %s", name, error)
    wanted = set(pipeline.plan(list(sources.values()), run))
    planned = [s for s in sources.values() if s.name in wanted]
    try:
        with warehouse.connect(run.dsn) as conn:
            weights = warehouse.articles_per_source(conn, [s.name for s in planned],
                                                    run.day - timedelta(days=WEIGHT_DAYS))
    except Exception:  # sizes only balance the shards: without them each source counts the same
        log.exception("could not read the sources' past sizes; shards are balanced by number of sources")
        weights = {}
    shards = make_shards(planned, shard_count(len(planned)), weights, run.day)
    log.info("%d sources with work in %d shards (%s sources per shard); %d left out", len(planned), len(shards),
             "-".join(str(n) for n in sorted({min(map(len, shards)), max(map(len, shards))})) if shards else "0",
             len(left_out))
    return shards


def shard_label(index: int, names: list[str], failed: list[str] | tuple[str, ...] = ()) -> str:
    """How a shard's task instance is named in the UI and by `make run`: the source itself for a
    shard of one, else its number and size, and the sources that failed."""
    label = names[0] if len(names) == 1 else f"shard {index + 1}: {len(names)} sources"
    if failed and len(names) > 1:
        label += f"; failed: {', '.join(failed)}"
    return label if len(label) <= LABEL_LENGTH else label[:LABEL_LENGTH - 1] + "…"


class ShardFailed(NewsEtlError):
    """Some sources of a shard failed a stage (each recorded in news.etl_run); the others went on."""


@dataclass
class StageOutcome:
    """What one shard's stage did, filled in as it goes (the failure callback reads `pending`)."""

    stage: str
    pending: list[str] = field(default_factory=list)  # not yet run in this try
    completed: list[str] = field(default_factory=list)  # ran well now, or in an earlier try
    failed: dict[str, str] = field(default_factory=dict)  # source -> reason
    blocked: dict[str, str] = field(default_factory=dict)  # source -> the quality gate's reason

    def error(self) -> ShardFailed | None:
        bad = {**self.failed, **self.blocked}
        if not bad:
            return None
        first = next(iter(bad.items()))
        return ShardFailed(f"{self.stage} failed for {len(bad)} of {len(bad) + len(self.completed)} sources of "
                           f"the shard: {', '.join(bad)}; first: {first[0]}: {first[1]}".splitlines()[0])


def _index(stage: str | None) -> int:
    return warehouse.STAGES.index(stage) if stage else -1


def _completed(stage: str, progress: tuple | None, clear_number: int) -> bool:
    """The source's latest attempt completed `stage` (or later) in this clearing of the run."""
    return progress is not None and _index(progress[1]) >= _index(stage) and progress[2] == clear_number


def _ready(stage: str, progress: tuple | None, clear_number: int) -> bool:
    """The source's latest attempt has completed the stage before `stage` in this clearing of the
    run (extract always is ready): not failed before it, not blocked by the gate, not left out as
    unchanged. Progress of an earlier clearing does not count: a source whose extract fails after a
    clear must not be transformed from what the earlier clearing left."""
    if stage == "extract":
        return True
    return (progress is not None and _index(progress[1]) >= _index(stage) - 1
            and progress[2] == clear_number and progress[0] not in ("blocked", "unchanged"))


def load_shard_sources(names: list[str], directory: Path | str | None = None) -> tuple[dict[str, Source], dict[str, str]]:
    """The shard's sources by name, each read from its own file (NAME.yaml, plan's list); a name
    whose file is gone or no longer loads, with the error naming the file (that source's failure)."""
    directory = Path(directory) if directory else sources_dir()
    found, missing = {}, []
    for name in names:
        path = directory / f"{name}.yaml"
        try:
            source = load_source(path) if path.is_file() else None
        except ConfigError as exc:
            found[name] = exc
            continue
        if source is not None and source.name == name:
            found[name] = source
        else:
            missing.append(name)
    if missing:  # a file not named after its source: read the list
        everything, broken = load_sources_leaving_out_broken(directory)
        by_name = {s.name: s for s in everything}
        for name in missing:
            found[name] = by_name.get(name) or ConfigError(
                f"{directory}: no source file names source {name!r} any more"
                + (f" ({len(broken)} files do not load)" if broken else ""))
    sources = {n: s for n, s in found.items() if isinstance(s, Source)}
    return sources, {n: str(e) for n, e in found.items() if not isinstance(e, Source)}


def run_stage(stage: str, names: list[str], run: pipeline.Run, clear_number: int,
              outcome: StageOutcome | None = None, directory: Path | str | None = None) -> StageOutcome:
    """Run `stage` (extract, transform, check or load) for each source of a shard, on its own.
    Skipped: sources whose stage completed in an earlier try (a retry redoes only what failed) and
    those not ready for it (an earlier stage failed, the gate blocked them, nothing changed). A
    failure is that source's (recorded in news.etl_run by the stage), and the next source goes on."""
    outcome = outcome or StageOutcome(stage)
    # One session for the shard's bookkeeping, not ten a source; every session named for the stage.
    with warehouse.sessions_named(f"news-etl {stage}"), warehouse.reusing_connections(run.dsn):
        return _run_stage(stage, names, run, clear_number, outcome, directory)


def _run_stage(stage: str, names: list[str], run: pipeline.Run, clear_number: int, outcome: StageOutcome,
               directory: Path | str | None) -> StageOutcome:
    with warehouse.connect(run.dsn) as conn:
        progress = warehouse.stage_progress(conn, run.run_id, names)
    outcome.completed = [n for n in names if _completed(stage, progress.get(n), clear_number)]
    outcome.pending = [n for n in names if n not in outcome.completed and _ready(stage, progress.get(n), clear_number)]
    if not outcome.pending:
        return outcome
    sources, unreadable = load_shard_sources(outcome.pending, directory)
    try:
        _run_sources(stage, sources, unreadable, run, clear_number, outcome)
    finally:
        if stage == "check" and sources:
            pipeline.finish_checks(run)  # the Data Docs index once for the shard, not once per source
    return outcome


def _run_sources(stage: str, sources: dict[str, Source], unreadable: dict[str, str], run: pipeline.Run,
                 clear_number: int, outcome: StageOutcome) -> None:
    options: dict[str, dict] = {name: {} for name in outcome.pending}
    if stage == "check":  # validated together; the Data Docs index is run_stage's, after the last source
        now = datetime.now(timezone.utc)
        validated = pipeline.check_together([sources[n] for n in outcome.pending if n in sources], run, now)
        options = {name: {"alone": False, "now": now, "validated": validated.get(name)} for name in outcome.pending}
    for name in list(outcome.pending):
        if name in unreadable:
            with warehouse.connect(run.dsn) as conn:
                warehouse.record_failure(conn, run.run_id, name, run.day, f"{stage} failed: {unreadable[name]}"[:1000])
            outcome.failed[name] = unreadable[name]
            outcome.pending.remove(name)
            continue
        try:
            getattr(pipeline, stage)(sources[name], run, **options[name])
        except QualityGateError as exc:
            outcome.blocked[name] = str(exc)
        except Exception as exc:  # recorded for this source by pipeline.records_failure
            log.exception("%s of %s failed", stage, name)
            outcome.failed[name] = f"{type(exc).__name__}: {exc}"
        else:
            with warehouse.connect(run.dsn) as conn:
                warehouse.record_stage_done(conn, run.run_id, name, stage, clear_number)
            outcome.completed.append(name)
        outcome.pending.remove(name)


def has_work(outcome: StageOutcome) -> bool:
    """Whether any source of the shard was, or is, in this stage (else its task is skipped)."""
    return bool(outcome.completed or outcome.failed or outcome.blocked)


def source_outcomes(dsn: str, run_id: str, stage: str, names: list[str]) -> dict[str, str]:
    """Each source's outcome of a shard's `stage`, as `make run` prints it under the shard's task:
    ok, FAILED, BLOCKED (by the quality gate), or skip (an earlier stage failed, or nothing changed)."""
    with warehouse.connect(dsn) as conn:
        progress = warehouse.stage_progress(conn, run_id, names)

    def outcome(name: str) -> str:
        status, done, _ = progress.get(name, (None, None, None))
        if _index(done) >= _index(stage):
            return "ok"
        if _index(done) == _index(stage) - 1 and status in ("failed", "blocked"):
            return status.upper()
        return "skip"

    return {name: outcome(name) for name in names}
