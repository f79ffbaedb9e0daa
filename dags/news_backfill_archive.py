"""news_backfill_archive: file past days of the sources from Common Crawl's news crawl (CC-NEWS)
into the raw archive, then run news_daily for each day that received pages.

Orchestration only; the work is in news_etl.ccnews. Triggered by hand with `start` and `end`:
`crawl_files` reads the months' warc.paths.gz lists from the crawl's base URL (the setting
NEWS_ETL_CCNEWS_URL, environment or Airflow Variable news_etl_ccnews_url); one mapped task per
WARC file streams it and files the sources' pages under (source, day); each file is filed whole
or not at all, so a retry or a re-run gives no duplicates and skips the files already read. Once
every file is done, `complete_days` marks those days complete in the archive, and `load_days`
triggers a news_daily run per day (param `date`): the normal transform, check and load, with
their summary and alerts, read the filed pages from the archive instead of fetching.
"""

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Param, dag, get_current_context, task

from news_etl import ccnews
from news_etl.orchestration import DagSettings, notify_failure

# Environment only at parse time: the sources are read by the task that files a crawl file.
SETTINGS = DagSettings.from_env()


@dag(
    dag_id="news_backfill_archive",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    # A month is some 500 files of ~1 GB: hours on a few workers; a week bounds a stuck run.
    dagrun_timeout=timedelta(days=7),
    params={
        "start": Param(None, type=["null", "string"], format="date", description="First day (YYYY-MM-DD)"),
        "end": Param(None, type=["null", "string"], format="date", description="Last day (YYYY-MM-DD)"),
        "again": Param(False, type="boolean", description="Read again the crawl files an earlier run read"),
    },
    default_args=SETTINGS.default_args(notify_failure),
    tags=["news", "backfill"],
    doc_md=__doc__,
)
def news_backfill_archive():
    @task
    def crawl_files() -> list[str]:
        return ccnews.crawl_files_of_run(get_current_context()["params"])

    @task(map_index_template="{{ crawl_file }}")
    def file_crawl_warc(url: str) -> dict:
        context = get_current_context()
        context["crawl_file"] = url.rsplit("/", 1)[-1]  # shown as the map index in the UI
        return ccnews.file_crawl_warc_of_run(url, context["params"])

    @task
    def complete_days(outcomes: list[dict]) -> list[dict]:
        context = get_current_context()
        return ccnews.complete_days_of_run(list(outcomes), context["run_id"])

    days = complete_days(file_crawl_warc.expand(url=crawl_files()))
    TriggerDagRunOperator.partial(task_id="load_days", trigger_dag_id="news_daily", logical_date=None,
                                  retries=SETTINGS.retries).expand(conf=days)


dag = news_backfill_archive()
