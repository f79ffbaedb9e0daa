"""Data-quality gate: Great Expectations checks run inside PostgreSQL on one run's staged rows.

Each expectation reports the stage_ids of the rows it rejects; a row rejected by any expectation
goes to news.quarantine with every reason, the others are marked passed and may load. Results per
expectation go to news.dq_result. Re-checking a source and day replaces its earlier results.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import psycopg2.extensions
import psycopg2.extras

from news_etl.sources import Source
from news_etl.warehouse import sql_file

# GX would otherwise try to send usage statistics over the network (these machines, and many
# production workers, have no internet access; a data pipeline should not phone home anyway).
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

MIN_BODY_WORDS = 20


@dataclass(frozen=True)
class CheckResult:
    expectation: str
    column: str | None
    success: bool
    element_count: int | None
    unexpected_count: int | None
    observed_value: object | None
    failed_ids: tuple[int, ...] = ()


@dataclass
class QualityReport:
    checked: int
    results: list[CheckResult]
    reasons: dict[int, list[dict]] = field(default_factory=dict)  # stage_id -> every failed check

    @property
    def quarantined(self) -> int:
        return len(self.reasons)

    @property
    def passed(self) -> int:
        return self.checked - self.quarantined


def collection_window(day: date, source: Source, lookback_days: int) -> tuple[datetime, datetime]:
    """[start, end) of what a run for `day` collects: the source's local day, plus the lookback."""
    start = datetime.combine(day - timedelta(days=lookback_days), time.min, source.timezone)
    end = datetime.combine(day + timedelta(days=1), time.min, source.timezone)
    return start, end


def build_expectations(source: Source, window: tuple[datetime, datetime], now: datetime,
                       clock_skew: timedelta) -> list:
    """The common suite, plus the story-code checks where the source has story codes."""
    import great_expectations.expectations as gxe

    start, end = window
    latest = min(end, now + clock_skew)
    checks = [
        gxe.ExpectColumnValuesToBeNull(column="parse_error"),
        gxe.ExpectColumnValuesToNotBeNull(column="title"),
        gxe.ExpectColumnValuesToNotBeNull(column="published_at"),
        gxe.ExpectColumnValuesToBeInSet(column="published_at_has_offset", value_set=[True]),
        gxe.ExpectColumnValuesToBeBetween(column="published_at_utc", min_value=start.isoformat(),
                                          max_value=latest.isoformat()),
        gxe.ExpectColumnValuesToBeBetween(column="word_count", min_value=MIN_BODY_WORDS),
        gxe.ExpectColumnValuesToBeUnique(column="url"),
    ]
    if source.story_codes:
        checks += [
            gxe.ExpectColumnValuesToNotBeNull(column="story_code"),
            gxe.ExpectColumnValuesToMatchRegex(column="story_code",
                                               regex=f"^(?:{source.story_codes.pattern.pattern})$"),
            gxe.ExpectColumnValuesToBeUnique(column="story_code"),
        ]
    return checks


def run_checks(sqlalchemy_url: str, query: str, expectations: list) -> list[CheckResult]:
    """Validate the rows `query` selects (inside PostgreSQL) against `expectations`."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    with warnings.catch_warnings():
        # GX suggests add_postgres, but that one rejects socket-only URLs such as the embedded
        # server's; the generic SQL source runs the same SQL inside PostgreSQL.
        warnings.simplefilter("ignore")
        datasource = context.data_sources.add_sql(name="warehouse", connection_string=sqlalchemy_url)
    asset = datasource.add_query_asset(name="staged_articles", query=query)
    batch = asset.add_batch_definition_whole_table("run").get_batch()
    suite = gx.ExpectationSuite(name="articles", expectations=expectations)
    outcome = batch.validate(suite, result_format={
        "result_format": "COMPLETE",
        "unexpected_index_column_names": ["stage_id"],
        "include_unexpected_rows": False,
    })
    results = []
    for r in outcome.results:
        cfg = r.expectation_config
        res = r.result or {}
        failed = tuple(sorted({row["stage_id"] for row in res.get("unexpected_index_list") or []}))
        if not r.success and not failed and res.get("unexpected_count"):
            raise RuntimeError(f"{cfg.type}: {res.get('unexpected_count')} rows failed but GX named none")
        results.append(CheckResult(
            expectation=cfg.type,
            column=cfg.kwargs.get("column"),
            success=bool(r.success),
            element_count=res.get("element_count"),
            unexpected_count=res.get("unexpected_count"),
            observed_value=res.get("observed_value"),
            failed_ids=failed,
        ))
    return results


def check_staged(conn, sqlalchemy_url: str, run_id: str, source: Source, day: date, *, now: datetime,
                 lookback_days: int, clock_skew: timedelta) -> QualityReport:
    """Check one run and source's staged rows, then write quarantine, statuses and results."""
    literal = lambda v: psycopg2.extensions.QuotedString(v).getquoted().decode()  # noqa: E731
    # GX wants the query to start with SELECT: the file's leading comment is left out.
    text = "\n".join(ln for ln in sql_file("quality/staged_articles.sql").splitlines() if not ln.startswith("--"))
    query = text.strip().format(run_id=literal(run_id), source=literal(source.name))
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM news.stage_article WHERE run_id = %s AND source = %s",
                    (run_id, source.name))
        checked = cur.fetchone()[0]
    if checked == 0:
        report = QualityReport(checked=0, results=[])
    else:
        window = collection_window(day, source, lookback_days)
        results = run_checks(sqlalchemy_url, query, build_expectations(source, window, now, clock_skew))
        report = QualityReport(checked=checked, results=results)
        for r in results:
            for stage_id in r.failed_ids:
                report.reasons.setdefault(stage_id, []).append(
                    {"expectation": r.expectation, "column": r.column})
    _write_report(conn, run_id, source.name, day, report)
    return report


def _write_report(conn, run_id: str, source: str, day: date, report: QualityReport) -> None:
    with conn.cursor() as cur:
        cur.execute("DELETE FROM news.quarantine WHERE source = %s AND day = %s", (source, day))
        cur.execute("DELETE FROM news.dq_result WHERE source = %s AND day = %s", (source, day))
        cur.execute("UPDATE news.stage_article SET dq_status = 'passed' WHERE run_id = %s AND source = %s",
                    (run_id, source))
        if report.reasons:
            cur.execute(
                "UPDATE news.stage_article SET dq_status = 'quarantined' WHERE stage_id = ANY(%s)",
                (list(report.reasons),))
            cur.execute(
                """INSERT INTO news.quarantine (run_id, source, day, url, story_code, title, published_at,
                                                reasons, raw_ref)
                   SELECT s.run_id, s.source, s.day, s.url, s.story_code, s.title, s.published_at,
                          r.reasons, s.raw_ref
                   FROM news.stage_article s
                   JOIN jsonb_to_recordset(%s::jsonb) AS r(stage_id bigint, reasons jsonb) USING (stage_id)""",
                (json.dumps([{"stage_id": k, "reasons": v} for k, v in report.reasons.items()]),))
        psycopg2.extras.execute_values(
            cur,
            "INSERT INTO news.dq_result (run_id, source, day, expectation, column_name, success, "
            "element_count, unexpected_count, observed_value) VALUES %s",
            [(run_id, source, day, r.expectation, r.column, r.success, r.element_count, r.unexpected_count,
              json.dumps(r.observed_value, default=str) if r.observed_value is not None else None)
             for r in report.results],
        )
