"""The data-quality gate: a source's suite of Great Expectations checks, run inside PostgreSQL on
one run's staged rows, then quarantine, results and the decision whether the source may load.

A row failing a `quarantine` or `block` check goes to news.quarantine with every check it failed,
the value seen and its raw reference; the other rows are marked passed. The source's load is
blocked when a `block` check fails or more than the suite's max_failed_ratio of rows fail.
The gate fails closed: a check Great Expectations could not evaluate (an error inside GX or
PostgreSQL, a failure that names no row, no observed value) blocks the load, its error recorded.
Whatever the suite, the gate's own guards (quality/guards.sql) quarantine a row with a value
PostgreSQL could not store as given and a row published outside the checks' window.
Results per check go to news.dq_result and to the Data Docs site (data_docs.py). Re-checking a source and day
replaces its earlier quarantine and results.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import logging
import statistics
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg2.extensions
import psycopg2.extras
import psycopg2.sql

from news_etl.errors import ConfigError, NewsEtlError
from news_etl.sources import Source
from news_etl.suites import Check, Suite
from news_etl.warehouse import sql_file

# GX would otherwise try to send usage statistics over the network (these machines, and many
# production workers, have no internet access; a data pipeline should not phone home anyway).
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

log = logging.getLogger(__name__)

HISTORY_RUNS = 14  # recent days whose batch sizes make a source's usual range


class QualityGateError(NewsEtlError):
    """A source's batch failed the gate: its load is blocked. The message lists the checks."""


@dataclass(frozen=True)
class CheckResult:
    check_id: str
    expectation: str
    column: str | None
    action: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    observed_value: Any
    failed_rows: dict[int, Any] = field(default_factory=dict)  # stage_id -> the value seen
    error: str | None = None  # why the check could not be evaluated: it then counts as failed


@dataclass
class QualityReport:
    checked: int
    results: list[CheckResult]
    max_failed_ratio: float
    data_docs: Path | None = None
    reasons: dict[int, list[dict]] = field(default_factory=dict)  # stage_id -> every failed check

    @property
    def quarantined(self) -> int:
        return len(self.reasons)

    @property
    def passed(self) -> int:
        return self.checked - self.quarantined

    def blocking(self) -> list[str]:
        """Why the source may not load; empty when it may."""
        why = [f"{r.check_id} could not be evaluated: {r.error}" for r in self.results
               if r.error and r.action != "record"]
        why += [f"{r.check_id} failed ({_count(r)})" for r in self.results
                if r.action == "block" and not r.success and not r.error]
        if self.checked and self.quarantined / self.checked > self.max_failed_ratio:
            why.append(f"{self.quarantined} of {self.checked} rows failed "
                       f"({self.quarantined / self.checked:.0%} > {self.max_failed_ratio:.0%})")
        return why

    def failed_checks(self) -> str:
        return "; ".join(f"{r.check_id}: {_count(r)}" for r in self.results if not r.success)


def _count(r: CheckResult) -> str:
    if r.error:
        return f"not evaluated: {r.error}"
    return f"{r.unexpected_count} rows" if r.unexpected_count is not None else f"observed {r.observed_value}"


def collection_window(day: date, source: Source, lookback_days: int) -> tuple[datetime, datetime]:
    """[start, end) of what a run for `day` collects: the source's local day, plus the lookback."""
    start = datetime.combine(day - timedelta(days=lookback_days), time.min, source.timezone)
    end = datetime.combine(day + timedelta(days=1), time.min, source.timezone)
    return start, end


def usual_row_range(history: list[int], low_factor: float, high_factor: float) -> tuple[int, int | None]:
    """The batch sizes a source usually has, from its recent runs; with little history, only an
    empty batch is unusual."""
    if len(history) < 3:
        return 1, None
    median = statistics.median(history)
    return max(1, int(median * low_factor)), int(median * high_factor) + 10


def run_parameters(suite: Suite, source: Source, window: tuple[datetime, datetime], now: datetime,
                   clock_skew: timedelta, history: list[int]) -> dict[str, Any]:
    params = dict(suite.parameters)
    row_min, row_max = usual_row_range(history, float(params.get("row_count_low_factor", 0.25)),
                                       float(params.get("row_count_high_factor", 4)))
    params.update(
        window_start=window[0].isoformat(),
        window_end=window[1].isoformat(),
        latest_allowed=min(window[1], now + clock_skew).isoformat(),
        story_code_regex=f"^(?:{source.story_codes.pattern.pattern})$" if source.story_codes else None,
        language=source.language,
        row_count_min=row_min,
        row_count_max=row_max,
    )
    return params


def applies(check: Check, source: Source) -> bool:
    return (check.when is None or (check.when == "story_codes" and source.story_codes is not None)
            or (check.when == "language" and source.language is not None))


def _fill(value, params: dict, where: str):
    """Replace {$PARAMETER: name} anywhere in a check's kwargs with the run's value."""
    if isinstance(value, dict) and set(value) == {"$PARAMETER"}:
        name = value["$PARAMETER"]
        if name not in params:
            raise ConfigError(f"{where}: unknown parameter '{name}' (known: {', '.join(sorted(params))})")
        return params[name]
    if isinstance(value, dict):
        return {k: _fill(v, params, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, params, where) for v in value]
    return value


def build_expectations(suite: Suite, source: Source, params: dict) -> list:
    """GX expectation objects for the checks that apply to `source`, ids and actions in `meta`."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    expectations = []
    for check in suite.checks:
        if not applies(check, source):
            continue
        where = f"{suite.files[-1]}: check '{check.id}'"
        config = ExpectationConfiguration(
            type=check.type,
            kwargs=_fill(check.kwargs, params, where),
            meta={"check_id": check.id, "action": check.action},
            description=check.description,
            severity={"block": "critical", "quarantine": "warning", "record": "info"}[check.action],
        )
        try:
            expectations.append(config.to_domain_obj())
        except Exception as exc:  # GX raises several types for an unknown type or bad kwargs
            raise ConfigError(f"{where}: not a valid Great Expectations check: {exc}") from exc
    return expectations


@dataclass
class _Validator:
    """A GX context with its warehouse data source and Data Docs site builder, made once per
    process for a warehouse URL and site: importing GX and making a context take seconds, which a
    check task validating many sources in a loop would otherwise pay for each source."""
    context: Any
    datasource: Any
    site: Any | None  # data_docs.OfflineSiteBuilder


_validators: dict[tuple[str, str | None], _Validator] = {}
KEPT_VALIDATORS = 4  # a task uses one warehouse and site; a test process goes through many


def _validator(sqlalchemy_url: str, site_dir: Path | None) -> _Validator:
    key = (sqlalchemy_url, str(site_dir) if site_dir else None)
    if key not in _validators:
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig, InMemoryStoreBackendDefaults, ProgressBarsConfig)

        config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                                   progress_bars=ProgressBarsConfig(globally=False))
        if site_dir is not None:
            from news_etl import data_docs

            config.stores[config.validation_results_store_name] = data_docs.results_store_config(site_dir)
            config.data_docs_sites = {data_docs.SITE_NAME: data_docs.site_config(site_dir)}
        context = gx.get_context(mode="ephemeral", project_config=config)
        with warnings.catch_warnings():
            # GX suggests add_postgres, but that one rejects socket-only URLs such as the embedded
            # server's; the generic SQL source runs the same SQL inside PostgreSQL. Each batch's rows
            # go into a temporary table first (the TEMP privilege, every role's by default): each
            # source's own checks of a shard read the rows of their source from it, where without
            # it each ran the whole shard's query again, so a check task's time grew with the
            # square of its sources (BENCHMARKS.md, "Thousands of sources").
            warnings.simplefilter("ignore")
            datasource = context.data_sources.add_sql(name="warehouse", connection_string=sqlalchemy_url,
                                                      create_temp_table=True)
        site = data_docs.site_builder(context, site_dir) if site_dir is not None else None
        _validators[key] = _Validator(context, datasource, site)  # kept only once it could be made
        while len(_validators) > KEPT_VALIDATORS:
            del _validators[next(iter(_validators))]  # the oldest
    return _validators[key]


# A failing row is named by its URL in Data Docs and by its stage_id for the quarantine; every
# failing row (GX names the first 20 only, by default, even in COMPLETE: the others would load).
RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": ["url", "stage_id"],
                 "include_unexpected_rows": False, "partial_unexpected_count": 1_000_000}


def run_checks(sqlalchemy_url: str, query: str, expectations: list, *, suite_name: str,
               docs_dir: Path | None, run_name: str | None = None) -> tuple[list[CheckResult], Path | None]:
    """Validate the rows `query` selects (inside PostgreSQL); store the result in the Data Docs
    site in `docs_dir` and add its page (the index is finish_checks'). Returns the results, in
    the order of `expectations`, and the page.

    The batch is validated directly (Batch.validate), as a checkpoint's one validation would be:
    a suite, validation definition and checkpoint registered in the context for every source would
    each be serialised and compared with the stored one, for nothing (they are not kept)."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier, ValidationResultIdentifier)

    validator = _validator(sqlalchemy_url, docs_dir)
    datasource = validator.datasource
    if "staged_articles" in datasource.get_asset_names():
        datasource.delete_asset("staged_articles")  # the query names this run's rows
    batch = datasource.add_query_asset(name="staged_articles", query=query).add_batch_definition_whole_table("run")
    run_id = RunIdentifier(run_name=run_name, run_time=datetime.now(timezone.utc))
    for number, expectation in enumerate(expectations):
        expectation.meta["number"] = number  # GX's results come in an order of its own
    outcome = batch.get_batch().validate(gx.ExpectationSuite(name=suite_name, expectations=expectations),
                                         result_format=RESULT_FORMAT)
    outcome.meta.update(run_id=run_id, validation_time=run_id.run_time)
    page = None
    if docs_dir is not None:
        key = ValidationResultIdentifier(expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
                                         run_id=run_id, batch_identifier=outcome.batch_id)
        try:
            validator.context.validation_results_store.set(key, outcome)
            page = validator.site.build_page(key)
        except Exception:
            # The report, not the gate: the checks ran and are recorded in the warehouse; this
            # validation's page (or its result in the site, so also its line in the index) is missing.
            log.exception("%s: no Data Docs page for this validation", suite_name)
    results = []
    for r in sorted(outcome.results, key=lambda r: r.expectation_config.meta["number"]):
        cfg = r.expectation_config
        res = r.result or {}
        column = cfg.kwargs.get("column")
        failed = {row["stage_id"]: row.get(column) for row in res.get("unexpected_index_list") or []
                  if isinstance(row, dict) and "stage_id" in row}
        error = evaluation_error(r.success, column, failed, res, r.exception_info)
        results.append(CheckResult(
            check_id=cfg.meta["check_id"], expectation=cfg.type, column=column, action=cfg.meta["action"],
            success=bool(r.success) and error is None, element_count=res.get("element_count"),
            unexpected_count=res.get("unexpected_count"), observed_value=res.get("observed_value"),
            failed_rows=failed, error=error,
        ))
    return results, page


def finish_checks(sqlalchemy_url: str, docs_dir: Path | None) -> Path | None:
    """After a batch of checks (a check task's shard, or one source checked alone): the Data Docs
    index rebuilt from every result in the site (one build at a time across processes), and no
    idle connection kept to the warehouse. Returns the index, or None when it could not be built:
    that is logged, never raised (the checks' results stand; the next build lists the missing)."""
    validator = _validators.get((sqlalchemy_url, str(docs_dir) if docs_dir else None))
    if validator is None:
        return None  # nothing was checked in this process
    index = None
    if validator.site is not None:
        from news_etl import data_docs

        try:
            with data_docs.site_lock(docs_dir):
                index = validator.site.build_index()
        except Exception:
            log.exception("Data Docs site %s: the index was not rebuilt", docs_dir)
    try:
        validator.datasource.get_engine().dispose()
    except Exception:
        log.exception("closing the checks' connections to the warehouse failed")
    return index


def evaluation_error(success: bool | None, column: str | None, failed: dict, result: dict,
                     exception_info: dict | None) -> str | None:
    """Why a GX result is no verdict (None when it is one). GX reports an error inside itself or
    PostgreSQL as an unsuccessful result with exception_info (flat, or keyed by metric), and then
    names no failing row: read as a plain failure, the gate would quarantine nothing and let the
    batch load."""
    info = exception_info or {}
    for entry in [info, *(v for v in info.values() if isinstance(v, dict))]:
        if entry.get("raised_exception"):
            message = str(entry.get("exception_message") or "an exception was raised").strip()
            return message.splitlines()[0][:500] if message else "an exception was raised"
    if success is None:
        return "no success or failure was reported"
    if column is None:  # a table-level check stands on its observed value
        return "no observed value" if result.get("observed_value") is None else None
    if not success and not failed:
        return (f"{result['unexpected_count']} rows failed but none was named" if result.get("unexpected_count")
                else "failed without naming a failing row")
    if failed and result.get("unexpected_count") is not None and len(failed) != result["unexpected_count"]:
        # the rows not named would pass the gate
        return f"{result['unexpected_count']} rows failed, only {len(failed)} named"
    return None


def _literal(text: str) -> str:
    """A quoted SQL string literal. Without a connection psycopg2 would encode it as latin-1, which
    fails on a title such as بريد الوادي."""
    quoted = psycopg2.extensions.QuotedString(text)
    quoted.encoding = "utf8"
    return quoted.getquoted().decode("utf8")


def staged_rows_query(run_id: str, sources: list[Source]) -> str:
    """The SQL the checks run on, for one run's rows of `sources`, with the literals filled in (GX
    wants it to start with SELECT, so the file's leading comment is left out)."""
    checked = ", ".join(
        f"({_literal(s.name)}, ARRAY[{_literal(s.title.lower())},{_literal(s.name.lower())}]::text[])"
        for s in sources)
    fill = {"run_id": _literal(run_id), "sources": checked}
    text = "\n".join(ln for ln in sql_file("quality/staged_articles.sql").splitlines() if not ln.startswith("--"))
    return re.sub(r"\{(run_id|sources)\}", lambda m: fill[m.group(1)], text).strip()


@dataclass
class _Batch:
    """One source's staged rows of a run, as its suite sees them: how many, and its expectations
    with the run's parameters filled in."""
    source: Source
    suite: Suite
    checked: int
    params: dict
    expectations: list


def _prepare(conn, run_id: str, source: Source, day: date, suite: Suite, *, now: datetime, lookback_days: int,
             clock_skew: timedelta) -> _Batch:
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM news.stage_article WHERE run_id = %s AND source = %s",
                    (run_id, source.name))
        checked = cur.fetchone()[0]
        cur.execute("""SELECT staged FROM (
                           SELECT DISTINCT ON (day) day, parsed + parse_failed AS staged FROM news.etl_run
                           WHERE source = %s AND run_id <> %s AND day < %s AND status = 'success'
                             AND NOT partial  -- a day collected before it was over is no baseline
                           ORDER BY day, attempt_id DESC) recent
                       ORDER BY day DESC LIMIT %s""", (source.name, run_id, day, HISTORY_RUNS))
        history = [n for (n,) in cur.fetchall()]
    params = run_parameters(suite, source, collection_window(day, source, lookback_days), now, clock_skew, history)
    return _Batch(source, suite, checked, params, build_expectations(suite, source, params))


@dataclass
class Validated:
    """A source's results from a validation shared with others of its shard (check_together), the
    validation's page, and the batch (its parameters) they were judged by."""
    results: list[CheckResult]
    page: Path | None
    batch: _Batch


def _run_name(day: date, run_id: str) -> str:
    return f"{day.isoformat()} {run_id.replace('/', '_')}"


def check_staged(conn, sqlalchemy_url: str, run_id: str, source: Source, day: date, suite: Suite, *,
                 now: datetime, lookback_days: int, clock_skew: timedelta,
                 docs_dir: Path | None = None,
                 validated: Validated | None = None) -> QualityReport:
    """Check one run and source's staged rows, then write quarantine, statuses and results. The
    validation's page goes to the Data Docs site in `docs_dir`, under the source and `day`; or the
    source was `validated` already, beside others of its shard (check_together), and these are its
    results, their page and its batch."""
    if validated is not None:
        batch, results, page = validated.batch, list(validated.results), validated.page
    else:
        batch = _prepare(conn, run_id, source, day, suite, now=now, lookback_days=lookback_days,
                         clock_skew=clock_skew)
        query = staged_rows_query(run_id, [source])
        if failure := query_failure(conn, query):
            # no check can be evaluated (GX would take minutes to find each one out)
            results, page = [CheckResult(check_id=e.meta["check_id"], expectation=e.expectation_type,
                                         column=getattr(e, "column", None), action=e.meta["action"],
                                         success=False, element_count=None, unexpected_count=None,
                                         observed_value=None, error=f"the checks' query failed in PostgreSQL: {failure}")
                             for e in batch.expectations], None
        else:
            conn.commit()  # only reads so far: no transaction stays open while GX validates (it holds back vacuum)
            results, page = run_checks(sqlalchemy_url, query, batch.expectations, suite_name=f"news.{source.name}",
                                       docs_dir=docs_dir, run_name=_run_name(day, run_id))
    results += guard_results(conn, run_id, source.name, batch.params)
    report = QualityReport(checked=batch.checked, results=results, max_failed_ratio=suite.max_failed_ratio,
                           data_docs=page)
    for r in results:
        if r.action == "record":
            continue
        for stage_id, seen in r.failed_rows.items():
            if r.check_id == GUARD_WINDOW and any(x["check"] == "published_at_in_collected_days"
                                                  for x in report.reasons.get(stage_id, ())):
                continue  # the suite's own window check said so already
            report.reasons.setdefault(stage_id, []).append(
                {"check": r.check_id, "expectation": r.expectation, "column": r.column, "observed": seen})
    _write_report(conn, run_id, source.name, day, report)
    return report


# Checks whose verdict on a row depends on that row alone: for sources whose suites say the same,
# one expectation covers them all (the rows it names tell the sources apart). Any other kind (a
# check over the column or table as a whole, one with `mostly`) is run per source.
ROW_BY_ROW = frozenset({
    "expect_column_values_to_be_null", "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between", "expect_column_value_lengths_to_be_between",
    "expect_column_value_lengths_to_equal", "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex", "expect_column_values_to_match_regex_list",
    "expect_column_values_to_not_match_regex_list", "expect_column_values_to_match_like_pattern",
    "expect_column_values_to_not_match_like_pattern", "expect_column_values_to_match_like_pattern_list",
    "expect_column_values_to_not_match_like_pattern_list",
})
# ...and uniqueness, where no two of the sources share a value (_sharing_values).
UNIQUE = "expect_column_values_to_be_unique"


def check_together(conn, sqlalchemy_url: str, run_id: str, sources: list[tuple[Source, Suite]], day: date, *,
                   now: datetime, lookback_days: int, clock_skew: timedelta,
                   docs_dir: Path | None = None) -> dict[str, Validated]:
    """One Great Expectations validation for the staged rows of a shard's sources, instead of one
    per source: what each source's suite asks is kept (a check every source asks the same of its
    rows, row by row, is one expectation; any other is one per source, on its rows only: a row
    condition on `source`). Returns each source's results, the validation's page and its batch,
    for check_staged to judge and write.

    Left out, so that check_staged validates them alone as before (an error in one source's rows
    stays that source's, not its neighbours'): a source without staged rows, one whose suite does
    not build or sets a row condition of its own, one with a check GX could not evaluate, and
    every source when the shard's query fails in PostgreSQL (a value it refuses to cast)."""
    from great_expectations.expectations.row_conditions import Column

    batches = []
    for source, suite in dict((s.name, (s, suite)) for s, suite in sources).values():
        try:
            batch = _prepare(conn, run_id, source, day, suite, now=now, lookback_days=lookback_days,
                             clock_skew=clock_skew)
        except ConfigError:
            continue  # its suite's error is reported by its own check
        # An empty batch alone gets GX's answers for no rows (no count of failures at all).
        if batch.checked and not any(getattr(e, "row_condition", None) for e in batch.expectations):
            batches.append(batch)
    if len(batches) < 2:
        return {}
    names = [b.source.name for b in batches]
    query = staged_rows_query(run_id, [b.source for b in batches])
    if query_failure(conn, query):
        return {}
    groups: dict[str, dict[str, Any]] = {}  # one expectation each: {source: its own expectation}
    for b in batches:
        for e in b.expectations:
            shared = e.expectation_type in ROW_BY_ROW | {UNIQUE} and getattr(e, "mostly", 1) == 1
            key = json.dumps(e.configuration.to_json_dict(), sort_keys=True, default=str) if shared else None
            groups.setdefault(key or f"{b.source.name}/{e.meta['check_id']}", {})[b.source.name] = e
    for key, group in list(groups.items()):
        # One uniqueness check over several sources' rows names a value two sources share: those
        # sources are checked apart, so that uniqueness stays each source's own.
        first = next(iter(group.values()))
        if first.expectation_type == UNIQUE and len(group) > 1:
            for name in _sharing_values(conn, query, first.column, list(group)):
                groups[f"{name}/{first.meta['check_id']}"] = {name: group.pop(name)}
    expectations, owners = [], []
    for group in groups.values():
        if not group:
            continue
        e, owner = next(iter(group.values())), list(group)
        if len(owner) < len(names):
            e.row_condition = Column("source") == owner[0] if len(owner) == 1 else Column("source").is_in(owner)
        expectations.append(e)
        owners.append(owner)
    conn.commit()  # only reads so far: no transaction stays open while GX validates (it holds back vacuum)
    results, page = run_checks(sqlalchemy_url, query, expectations,
                               suite_name=f"news.shard.{names[0]}.{len(names)}-sources", docs_dir=docs_dir,
                               run_name=_run_name(day, run_id))
    with conn.cursor() as cur:
        cur.execute("SELECT stage_id, source FROM news.stage_article WHERE run_id = %s AND source = ANY(%s)",
                    (run_id, names))
        source_of = dict(cur.fetchall())
    checked = {b.source.name: b.checked for b in batches}
    split: dict[str, list[CheckResult]] = {name: [] for name in names}
    unsure: set[str] = set()
    for result, owner in zip(results, owners, strict=True):
        for name, own in _per_source(result, owner, source_of, checked).items():
            split[name].append(own)
            if own.error:
                unsure.add(name)  # whose error is it? A failure of the shared run, or of its rows?
    for name in unsure:  # validated alone by check_staged, an error of its own stays its own
        del split[name]
    for b in batches:  # each source's results in its suite's order, as when validated alone
        if b.source.name not in split:
            continue
        order = {e.meta["check_id"]: number for number, e in enumerate(b.expectations)}
        split[b.source.name].sort(key=lambda r: order[r.check_id])
        if [r.check_id for r in split[b.source.name]] != list(order):  # every check once, or alone
            del split[b.source.name]
    batch_of = {b.source.name: b for b in batches}
    return {name: Validated(own, page, batch_of[name]) for name, own in split.items()}


def _sharing_values(conn, query: str, column: str, names: list[str]) -> list[str]:
    """The sources among `names` of which a value of `column` is also another's (all of them when
    that cannot be told: each is then checked on its own rows)."""
    with conn.cursor() as cur:
        cur.execute("SAVEPOINT sharing_values")
        try:
            cur.execute(psycopg2.sql.SQL(
                "SELECT DISTINCT source FROM ({query}) AS staged WHERE source = ANY(%(names)s) AND {column} IN ("
                " SELECT {column} FROM ({query}) AS again WHERE source = ANY(%(names)s)"
                " GROUP BY {column} HAVING count(DISTINCT source) > 1)").format(
                    query=psycopg2.sql.SQL(query.replace("%", "%%")), column=psycopg2.sql.Identifier(column)),
                {"names": names})
        except psycopg2.Error:
            cur.execute("ROLLBACK TO SAVEPOINT sharing_values")
            return names
        apart = [name for (name,) in cur.fetchall()]
        cur.execute("RELEASE SAVEPOINT sharing_values")
    return apart


def _per_source(result: CheckResult, owner: list[str], source_of: dict[int, str],
                checked: dict[str, int]) -> dict[str, CheckResult]:
    """A shared check's result as each of its sources' own: the rows it names of that source."""
    if len(owner) == 1:
        return {owner[0]: result}  # checked on that source's rows alone
    error = result.error
    if error is None and (result.unexpected_count != len(result.failed_rows)
                          or any(source_of.get(sid) not in owner for sid in result.failed_rows)):
        error = (f"{result.unexpected_count} rows failed but {len(result.failed_rows)} were named, "
                 f"not all of them rows of the sources checked")
    split = {}
    for name in owner:
        failed = {sid: seen for sid, seen in result.failed_rows.items() if source_of.get(sid) == name}
        split[name] = dataclasses.replace(
            result, success=error is None and not failed, element_count=checked[name],
            unexpected_count=len(failed) if error is None else None, failed_rows=failed, error=error)
    return split


def query_failure(conn, query: str) -> str | None:
    """PostgreSQL's error if the checks' query cannot run on this batch (a value it refuses to
    cast), else None. Tried under a savepoint, so the gate's own writes still go through."""
    with conn.cursor() as cur:
        cur.execute("SAVEPOINT checks_query")
        try:
            cur.execute(f"SELECT count(*) FROM ({query}) AS staged")
        except psycopg2.Error as exc:
            cur.execute("ROLLBACK TO SAVEPOINT checks_query")
            return str(exc).strip().splitlines()[0]
        cur.execute("RELEASE SAVEPOINT checks_query")
    return None


GUARD_STORABLE = "values_storable"
GUARD_WINDOW = "published_at_in_partition_window"


def guard_results(conn, run_id: str, source: str, params: dict) -> list[CheckResult]:
    """The gate's own checks, run whatever the suite (quality/guards.sql): a row whose values
    PostgreSQL could not store as given, and a row published outside the checks' window (which
    would get a partition of its own), are quarantined."""
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM news.stage_article WHERE run_id = %s AND source = %s", (run_id, source))
        total = cur.fetchone()[0]
        cur.execute(sql_file("quality/guards.sql"), dict(run_id=run_id, source=source,
                                                          window_start=params["window_start"],
                                                          window_end=params["window_end"]))
        found = cur.fetchall()
    unstorable = {sid: why for sid, why, _, _ in found if why}
    outside = {sid: published for sid, _, out, published in found if out}
    return [
        CheckResult(check_id=check_id, expectation="news_etl guard", column=column, action="quarantine",
                    success=not failed, element_count=total, unexpected_count=len(failed), observed_value=None,
                    failed_rows=failed)
        for check_id, column, failed in ((GUARD_STORABLE, "unstorable", unstorable),
                                         (GUARD_WINDOW, "published_at", outside))
    ]


def _write_report(conn, run_id: str, source: str, day: date, report: QualityReport) -> None:
    with conn.cursor() as cur:
        cur.execute("DELETE FROM news.quarantine WHERE source = %s AND day = %s", (source, day))
        cur.execute("DELETE FROM news.dq_result WHERE source = %s AND day = %s", (source, day))
        cur.execute("UPDATE news.stage_article SET dq_status = 'passed' WHERE run_id = %s AND source = %s",
                    (run_id, source))
        if report.reasons:
            cur.execute("UPDATE news.stage_article SET dq_status = 'quarantined' WHERE stage_id = ANY(%s)",
                        (list(report.reasons),))
            cur.execute(
                """INSERT INTO news.quarantine (run_id, source, day, url, story_code, title, published_at,
                                                reasons, raw_ref)
                   SELECT s.run_id, s.source, s.day, s.url, s.story_code, s.title, s.published_at,
                          r.reasons, s.raw_ref
                   FROM news.stage_article s
                   JOIN jsonb_to_recordset(%s::jsonb) AS r(stage_id bigint, reasons jsonb) USING (stage_id)
                   ORDER BY s.stage_id""",
                (json.dumps([{"stage_id": k, "reasons": v} for k, v in report.reasons.items()], default=str),))
        psycopg2.extras.execute_values(
            cur,
            "INSERT INTO news.dq_result (run_id, source, day, check_id, action, expectation, column_name, success, "
            "element_count, unexpected_count, observed_value, error) VALUES %s",
            [(run_id, source, day, r.check_id, r.action, r.expectation, r.column, r.success, r.element_count,
              r.unexpected_count, json.dumps(r.observed_value, default=str) if r.observed_value is not None else None,
              r.error)
             for r in report.results],
        )


def dq_report(conn, day: date) -> list[dict]:
    """The day's results, per source and check, with the source's latest run status."""
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(sql_file("quality/dq_report.sql"), {"day": day})
        return [dict(r) for r in cur.fetchall()]
