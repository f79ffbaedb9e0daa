"""news_etl.airflow_api against a real HTTP server on 127.0.0.1 that answers as Airflow's API does,
from a script: marking a run failed retries what Airflow answers when it loses a deadlock (HTTP 500
"Database error"), within a bound, and leaves a run that ended meanwhile as it is; a run's task
instances are read page by page."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from news_etl.airflow_api import AirflowApi, AirflowApiError

RUN = "/api/v2/dags/news_daily/dagRuns/local__2024-03-01__20240304T120000"
DATABASE_ERROR = (500, {"detail": {"reason": "Database error", "statement": "hidden", "orig_error": "hidden"}})


class ScriptedAirflow:
    """Answers each PATCH of RUN with the next of `patches` (status, body), each GET of it with
    the run in `state` and each GET of its task instances with a page of `task_instances`; records
    the requests as (method, path)."""

    def __init__(self, patches: list[tuple[int, dict]], state: str = "running"):
        self.patches, self.state, self.requests = list(patches), state, []
        self.task_instances: list[dict] = []
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):  # /auth/token
                self.rfile.read(int(self.headers["Content-Length"]))
                self.answer(201, {"access_token": "t"})

            def do_GET(self):
                scripted.requests.append(("GET", self.path))
                if "/taskInstances?" in self.path:  # as Airflow pages them: at most 100 whatever the limit
                    query = dict(part.split("=") for part in self.path.split("?")[1].split("&"))
                    offset, limit = int(query.get("offset", 0)), min(int(query.get("limit", 50)), 100)
                    self.answer(200, {"task_instances": scripted.task_instances[offset:offset + limit],
                                      "total_entries": len(scripted.task_instances)})
                    return
                self.answer(200, {"dag_run_id": "r", "state": scripted.state})

            def do_PATCH(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                scripted.requests.append(("PATCH", self.path))
                self.answer(*scripted.patches.pop(0))

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("patches, state, within, expected, methods", [
    # Two lost deadlocks, then the PATCH goes through (retried after 1 s, then 2 s).
    ([DATABASE_ERROR, DATABASE_ERROR, (200, {"state": "failed"})], "running", 60, "failed",
     ["PATCH", "GET", "PATCH", "GET", "PATCH"]),
    # The run succeeded before the retry: it is not turned into a failed one.
    ([DATABASE_ERROR], "success", 60, "success", ["PATCH", "GET"]),
    # Not Airflow's error to retry: at once.
    ([(404, {"detail": "The DagRun was not found"})], "running", 60, AirflowApiError, ["PATCH"]),
    # Always a 500: given up once the next wait would pass `within`.
    ([DATABASE_ERROR] * 5, "running", 2.5, AirflowApiError, ["PATCH", "GET", "PATCH"]),
])
def test_mark_failed_retries_a_database_error_within_its_bound(patches, state, within, expected, methods):
    airflow = ScriptedAirflow(patches, state)
    api = AirflowApi(airflow.url, "admin", "secret")
    t0 = time.monotonic()
    try:
        if isinstance(expected, type):
            with pytest.raises(expected, match=r"PATCH .*: HTTP (404|500)"):
                api.mark_failed("news_daily", RUN.rsplit("/", 1)[1], within=within)
        else:
            assert api.mark_failed("news_daily", RUN.rsplit("/", 1)[1], within=within) == expected
    finally:
        airflow.close()
    assert airflow.requests == [(m, RUN) for m in methods]
    assert time.monotonic() - t0 < within


def test_task_instances_are_read_page_by_page():
    """A run of 25 shards or more has over 100 task instances, Airflow's most per request."""
    airflow = ScriptedAirflow([])
    airflow.task_instances = [{"task_id": "shard.extract", "map_index": i} for i in range(250)]
    try:
        listed = AirflowApi(airflow.url, "admin", "pw").task_instances("news_daily", RUN.rsplit("/", 1)[1])
    finally:
        airflow.close()
    assert listed == airflow.task_instances
    assert [path.split("?")[1] for method, path in airflow.requests if method == "GET"] == [
        "limit=100&offset=0", "limit=100&offset=100", "limit=100&offset=200"]
