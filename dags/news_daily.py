"""news_daily: every day, collect each source's new articles, check them, load the warehouse.

Orchestration only; the work is in the news_etl package. `plan` migrates the warehouse, reads and
validates the source files (this file reads none: its parse time does not grow with the sources),
records the sources left out (a broken source or suite file, with its file and key) and groups the
sources with work (a re-run of a day skips those with nothing changed since its last load) into
shards, by host and size (news_etl.shards). Then one mapped task group per shard (extract,
transform), the checks mapped over fewer, larger shards (fetch shards merged: each check task sets
Great Expectations up once for all its sources), and load mapped over the shards again. Each task
runs its stage for every source of its shard on its own, so a source that fails or is blocked never
stops the others; a task that had a failing source fails (it is retried for those sources only) and
its map index names them. Each run updates the `news.articles` Asset, on which news_digest is
scheduled.
"""

import pendulum
from airflow.sdk import Param, dag, get_current_context, task, task_group
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from airflow.timetables.interval import CronDataIntervalTimetable

from news_etl import pipeline, shards
from news_etl.orchestration import NEWS_ARTICLES, DagSettings, load_deadline_alert, task_failed

# Environment only: nothing here reads a source file, a suite or an Airflow Variable.
SETTINGS = DagSettings.from_env()


def _shard_stage(stage: str, shard: list[str]) -> None:
    """One shard's stage, for the task of that stage; its map index names the shard (and the
    sources that failed), and the failure callback reads which sources were still pending."""
    context = get_current_context()
    index = context["ti"].map_index
    outcome = shards.StageOutcome(stage)  # pending filled once the shard's progress is read
    context["shard_outcome"] = outcome
    context["shard_label"] = shards.shard_label(index, shard)
    shards.run_stage(stage, shard, pipeline.run_for(context), context["dag_run"].clear_number or 0, outcome)
    error = outcome.error()
    context["shard_label"] = shards.shard_label(index, shard, [*outcome.failed, *outcome.blocked])
    if error and not outcome.failed:
        raise AirflowFailException(str(error)) from error  # only the gate's blocks: retrying cannot unblock them
    if error:
        raise error  # retried: the sources that completed are skipped
    if not shards.has_work(outcome):
        raise AirflowSkipException(f"no source of this shard is ready for {stage} (failed, blocked or unchanged)")


@dag(
    dag_id="news_daily",
    # Real intervals: the run for [D, D+1) starts once D is over (Airflow 3's @daily has none).
    schedule=CronDataIntervalTimetable(SETTINGS.schedule, timezone=SETTINGS.timezone),
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=SETTINGS.catchup,
    max_active_runs=SETTINGS.max_active_runs,
    dagrun_timeout=SETTINGS.daily_run_timeout,
    deadline=load_deadline_alert(SETTINGS),  # the day's load done by NEWS_ETL_LOAD_DEADLINE
    params={
        "date": Param(None, type=["null", "string"], format="date",
                      description="Collect this day instead of the run's logical date (YYYY-MM-DD)"),
        "refetch": Param(False, type="boolean",
                         description="Fetch the feeds again even when the archive already holds the day"),
        "reprocess": Param(False, type="boolean",
                           description="Transform, check and load the day again even when nothing changed "
                                       "since its last load"),
    },
    default_args=SETTINGS.default_args(task_failed),
    tags=["news", "etl"],
    doc_md=__doc__,
)
def news_daily():
    @task
    def plan() -> list[list[str]]:
        run = pipeline.run_for(get_current_context())
        pipeline.migrate(run.dsn)
        return shards.plan_shards(run)

    @task
    def check_shards(fetch_shards: list[list[str]]) -> list[list[str]]:
        return shards.check_shards(fetch_shards)

    # Each task takes its shard from plan and returns nothing: a failed extract of one source
    # must not keep the shard's others from transform (hence all_done), and counters live in
    # news.etl_run, not in XCom. A check or load waits for every shard's stage before it (its
    # shard spans several fetch shards); each source goes on only if its own stage before completed.
    @task(map_index_template="{{ shard_label }}", pool="news_fetch")
    def extract(shard: list[str]) -> None:
        _shard_stage("extract", shard)

    @task(map_index_template="{{ shard_label }}", trigger_rule="all_done")
    def transform(shard: list[str]) -> None:
        _shard_stage("transform", shard)

    @task(map_index_template="{{ shard_label }}", trigger_rule="all_done", pool="news_check")
    def check(shard: list[str]) -> None:
        _shard_stage("check", shard)

    @task(map_index_template="{{ shard_label }}", trigger_rule="all_done")
    def load(shard: list[str]) -> None:
        _shard_stage("load", shard)

    @task_group
    def shard(sources: list[str]):
        # Returns nothing, so `expand` gives the group itself and >> wires its first and last tasks.
        extract(sources) >> transform(sources)

    @task(trigger_rule="all_done", outlets=[NEWS_ARTICLES], multiple_outputs=False)
    def summary(*, outlet_events=None) -> dict:
        run = pipeline.run_for(get_current_context())
        rows = pipeline.run_summary(run.dsn, run.run_id)
        loaded_new = sum(r["loaded_new"] for r in rows)
        outlet_events[NEWS_ARTICLES].extra = {"day": run.day.isoformat(), "loaded_new": loaded_new}
        # Small: the rows themselves are in news.etl_run (one per source, thousands of them).
        return {"sources": len(rows), "loaded_new": loaded_new,
                "not_ok": sorted(r["source"] for r in rows if r["status"] not in ("success", "unchanged", "no_data"))}

    fetch_shards = plan()
    (shard.expand(sources=fetch_shards) >> check.expand(shard=check_shards(fetch_shards))
     >> load.expand(shard=fetch_shards) >> summary())


dag = news_daily()
