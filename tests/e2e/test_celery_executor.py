"""news_daily on the CeleryExecutor, without Docker: Debian's redis-server as the broker, and
`news-etl airflow` (what `make airflow` runs) with AIRFLOW__CORE__EXECUTOR=CeleryExecutor, which
starts `airflow celery worker` beside the api-server, scheduler, dag-processor and triggerer. The
scheduler sends every task through Redis to the worker; the run must load exactly the sample
publishers' articles. The archive root comes from an Airflow Variable (news_etl_archive) set through
the REST API, so the worker's tasks also prove the settings lookup (environment, then Variable).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from datetime import date

import psycopg2
import pytest

from conftest import SAMPLE_NOW
from helpers import expected_articles, loaded_articles, rows
from live_airflow import _free_port, local_airflow
from news_etl.sample_sites.publishers import PUBLISHERS

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
pytestmark = [
    pytest.mark.e2e,
    # CI installs it (.ci/run); elsewhere a machine without it skips, saying what to install.
    pytest.mark.skipif(not os.path.exists(REDIS_SERVER) and not os.environ.get("CI"),
                       reason="redis-server not installed (apt-get install redis-server)"),
]
DAY = date(2024, 3, 1)
RUN_TIMEOUT = 600  # seconds; about 2 minutes on a 2-CPU machine


@pytest.fixture
def redis_url(tmp_path):
    """A throwaway Redis on 127.0.0.1 (no persistence), stopped after the test."""
    import redis

    port = _free_port()
    proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=open(tmp_path / "redis.log", "wb"), stderr=subprocess.STDOUT)
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start:\n{(tmp_path / 'redis.log').read_text()}")
            time.sleep(0.2)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=30)


def test_news_daily_through_the_celery_executor(tmp_path, postgres, sample_url, redis_url):
    celery = {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": redis_url,
        # The result backend is left to its default: the metadata database (db+postgresql...).
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
    }
    archive = tmp_path / "archive-from-variable"
    t0 = time.monotonic()
    with local_airflow(tmp_path, postgres, sample_url, celery) as airflow:
        started = time.monotonic() - t0
        assert "celery-worker" in airflow.output.read_text(), airflow.output.read_text()
        airflow.request("POST", "/api/v2/variables", {"key": "news_etl_archive", "value": str(archive)})
        airflow.request("PATCH", "/api/v2/dags/news_daily", {"is_paused": False})
        run = airflow.request("POST", "/api/v2/dags/news_daily/dagRuns",
                              {"logical_date": None, "conf": {"date": DAY.isoformat()}})
        run_path = f"/api/v2/dags/news_daily/dagRuns/{run['dag_run_id']}"

        def finished():
            state = airflow.request("GET", run_path)["state"]
            return state if state in ("success", "failed") else None

        t1 = time.monotonic()
        state = airflow.wait_for("the news_daily run", finished, RUN_TIMEOUT)
        ran = time.monotonic() - t1
        tasks = airflow.request("GET", f"{run_path}/taskInstances?limit=100")["task_instances"]
        assert state == "success", [(t["task_id"], t["map_index"], t["state"]) for t in tasks]

        # Every task instance went through Celery: one SUCCESS result per task in the result
        # backend (Celery's celery_taskmeta table in the metadata database). The last one turns
        # SUCCESS just after its task instance reported success to Airflow: wait for it.
        def celery_results():
            with psycopg2.connect(airflow.metadata_dsn) as conn, conn.cursor() as cur:
                cur.execute("SELECT status, count(*) FROM celery_taskmeta GROUP BY status")
                return dict(cur.fetchall())

        airflow.wait_for("Celery's results", lambda: celery_results() == {"SUCCESS": len(tasks)}, 60, every=1)
        assert {t["state"] for t in tasks} == {"success"}
        # plan, check_shards, 4 per shard, summary: the sample publishers share one host, so they
        # are one shard (and one check shard)
        assert len(tasks) == 3 + 4 * 1

        for publisher in PUBLISHERS:
            assert loaded_articles(airflow.dsn, publisher) == expected_articles(publisher, sample_url, DAY,
                                                                                SAMPLE_NOW), publisher
        assert rows(airflow.dsn, "SELECT source, day, status FROM news.etl_run WHERE run_id = %s ORDER BY source",
                    (run["dag_run_id"],)) == [(p, DAY, "success") for p in sorted(PUBLISHERS)]

        # The tasks read NEWS_ETL_ARCHIVE from the Airflow Variable (not set in their environment).
        assert sorted(p.name for p in archive.iterdir()) == sorted(PUBLISHERS)
        assert not (tmp_path / "state" / "archive").exists()
    print(f"\nAirflow with a Celery worker ready in {started:.0f}s; news_daily ran in {ran:.0f}s")
