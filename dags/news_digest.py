"""news_digest: after each news_daily run, the day's digest as an HTML page in the reports folder.

Scheduled on the `news.articles` Asset: the day's top stories (story clusters, with their outlets
and links), volume per source over the last 14 days, the top watched terms with their change
against the 7 days before (spikes flagged) and the day's data-quality summary.
"""

import pendulum
from airflow.sdk import dag, get_current_context, task

from news_etl import pipeline
from news_etl.digest import write_digest
from news_etl.orchestration import NEWS_ARTICLES, DagSettings, digest_days

SETTINGS = DagSettings.from_env()


@dag(
    dag_id="news_digest",
    schedule=[NEWS_ARTICLES],
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    dagrun_timeout=SETTINGS.digest_run_timeout,
    default_args={"retries": SETTINGS.retries, "retry_delay": SETTINGS.retry_delay,
                  "execution_timeout": SETTINGS.task_timeout},
    tags=["news", "report"],
    doc_md=__doc__,
)
def news_digest():
    @task
    def digest() -> list[str]:
        context = get_current_context()
        run = pipeline.run_for(context)
        days = digest_days(context["triggering_asset_events"]) or [run.day]
        paths = [str(write_digest(run.dsn, day, run.settings.reports_dir)) for day in days]
        print("Digest written to:", *paths, sep="\n  ")
        return paths

    digest()


dag = news_digest()
