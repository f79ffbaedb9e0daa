"""news_daily: every day, collect each source's new articles, check them, load the warehouse.

Orchestration only; the work is in the news_etl package. `plan` migrates the warehouse, records
the sources left out (a broken source or suite file) and lists the sources with work (a re-run of
a day skips those with nothing changed since its last load); then one mapped task group per such source, so a source that fails or is blocked never stops the
others. Each run updates the `news.articles` Asset, on which news_digest is scheduled.
"""

import pendulum
from airflow.sdk import Param, dag, get_current_context, task, task_group
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from airflow.timetables.interval import CronDataIntervalTimetable

from news_etl import pipeline
from news_etl.orchestration import NEWS_ARTICLES, DagSettings, load_deadline_alert, task_failed
from news_etl.quality import QualityGateError

# Parsed with the DAG. A bad source or suite file leaves out its own source only: plan records it
# as failed with the file's error and key, so the run's summary says which and why (an import
# error would instead stop every source's collection of the day). A bad setting is an import error.
SOURCES, LEFT_OUT = pipeline.runnable_sources()
SETTINGS = DagSettings.from_env()


def _source_run(name: str):
    context = get_current_context()
    context["source_name"] = name  # shown as the map index in the UI
    return SOURCES[name], pipeline.run_for(context)


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
    default_args={
        "retries": SETTINGS.retries,
        "retry_delay": SETTINGS.retry_delay,
        "retry_exponential_backoff": True,
        "execution_timeout": SETTINGS.task_timeout,
        "on_failure_callback": task_failed,
    },
    tags=["news", "etl"],
    doc_md=__doc__,
)
def news_daily():
    @task
    def plan() -> list[str]:
        run = pipeline.run_for(get_current_context())
        pipeline.migrate(run.dsn)
        pipeline.record_left_out(run, LEFT_OUT)
        return pipeline.plan(list(SOURCES.values()), run)

    @task(map_index_template="{{ source_name }}")
    def extract(name: str) -> dict:
        extracted = pipeline.extract(*_source_run(name))
        if extracted.get("unchanged_since"):
            # (A run of the day that ended meanwhile.) The scheduler skips transform, check and load.
            raise AirflowSkipException(f"{name}: nothing changed since run {extracted['unchanged_since']} "
                                       "(the param reprocess runs the source again)")
        return extracted

    @task(map_index_template="{{ source_name }}")
    def transform(extracted: dict) -> dict:
        return pipeline.transform(*_source_run(extracted["source"]))

    @task(map_index_template="{{ source_name }}")
    def check(transformed: dict) -> dict:
        try:
            return pipeline.check(*_source_run(transformed["source"]))
        except QualityGateError as blocked:
            raise AirflowFailException(str(blocked)) from blocked  # retrying cannot unblock it

    @task(map_index_template="{{ source_name }}")
    def load(checked: dict) -> dict:
        return pipeline.load(*_source_run(checked["source"]))

    @task_group
    def source(name: str):
        # Returns nothing, so `expand` gives the group itself and >> wires its first and last tasks.
        load(check(transform(extract(name))))

    @task(trigger_rule="all_done", outlets=[NEWS_ARTICLES])
    def summary(*, outlet_events=None) -> list[dict]:
        run = pipeline.run_for(get_current_context())
        rows = pipeline.run_summary(run.dsn, run.run_id)
        outlet_events[NEWS_ARTICLES].extra = {"day": run.day.isoformat(),
                                              "loaded_new": sum(r["loaded_new"] for r in rows)}
        return rows

    source.expand(name=plan()) >> summary()


dag = news_daily()
