"""news_daily: every day, collect each source's new articles, check them, load the warehouse.

Orchestration only; the work is in the news_etl package. One mapped task group per source, so a
source that fails or is blocked never stops the others.
"""

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task, task_group
from airflow.sdk.exceptions import AirflowFailException
from airflow.timetables.interval import CronDataIntervalTimetable

from news_etl import pipeline
from news_etl.quality import QualityGateError
from news_etl.sources import load_sources
from news_etl.suites import load_suite

# Parsed with the DAG: a bad source or suite file is an import error that names the file and key.
SOURCES = {source.name: source for source in load_sources()}
for _name in SOURCES:
    load_suite(_name)


def _source_run(name: str):
    context = get_current_context()
    context["source_name"] = name  # shown as the map index in the UI
    return SOURCES[name], pipeline.run_for(context)


@dag(
    dag_id="news_daily",
    # Real one-day intervals: a run covers [D, D+1) and starts once D is over.
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    params={"date": Param(None, type=["null", "string"], format="date",
                          description="Collect this day instead of the run's logical date (YYYY-MM-DD)")},
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30), "retry_exponential_backoff": True},
    tags=["news", "etl"],
    doc_md=__doc__,
)
def news_daily():
    @task
    def migrate_warehouse() -> list[str]:
        return pipeline.migrate(pipeline.run_for(get_current_context()).dsn)

    @task(map_index_template="{{ source_name }}")
    def extract(name: str) -> dict:
        return pipeline.extract(*_source_run(name))

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

    @task(trigger_rule="all_done")
    def summary() -> list[dict]:
        run = pipeline.run_for(get_current_context())
        return pipeline.run_summary(run.dsn, run.run_id)

    migrate_warehouse() >> source.expand(name=list(SOURCES)) >> summary()


dag = news_daily()
