"""Airflow's public REST API (/api/v2) as `make run` uses it: log in, trigger a DAG run, follow its
task instances, mark it failed. Only the documented API: never Airflow's internal tables.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request

from news_etl.errors import NewsEtlError

# The local Airflow and sample servers (local_run, local_airflow too): never through an HTTP(S)_PROXY of the environment, which
# would see the API password and could not reach 127.0.0.1 anyway.
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))
log = logging.getLogger(__name__)
MARK_FAILED_WITHIN = 60.0  # seconds that marking a run failed may take, retries included


class AirflowApiError(NewsEtlError):
    """Airflow's API answered with an error; the message names the request and Airflow's answer."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class AirflowApi:
    def __init__(self, url: str, user: str, password: str, timeout: float = 60):
        self.url, self.user, self.password, self.timeout = url.rstrip("/"), user, password, timeout
        self._token: str | None = None

    def _send(self, method: str, path: str, body: dict | None = None, auth: bool = True):
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        request = urllib.request.Request(self.url + path, method=method, headers=headers,
                                         data=json.dumps(body).encode() if body is not None else None)
        try:
            with LOCAL.open(request, timeout=self.timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            raise AirflowApiError(f"Airflow API {method} {path}: HTTP {exc.code}: {detail}", exc.code) from None
        except (OSError, ValueError) as exc:
            raise AirflowApiError(f"Airflow API {method} {path}: {exc}") from None

    def token(self) -> str:
        """A JWT from the SimpleAuthManager (POST /auth/token)."""
        if self._token is None:
            self._token = self._send("POST", "/auth/token", {"username": self.user, "password": self.password},
                                     auth=False)["access_token"]
        return self._token

    def dag(self, dag_id: str) -> dict | None:
        """The DAG as Airflow knows it, or None while the dag-processor has not parsed it."""
        try:
            return self._send("GET", f"/api/v2/dags/{dag_id}")
        except AirflowApiError as exc:
            if exc.status == 404:
                return None
            raise

    def import_errors(self) -> list[dict]:
        return self._send("GET", "/api/v2/importErrors")["import_errors"]

    def trigger(self, dag_id: str, run_id: str, conf: dict) -> dict:
        """A manual run without a logical date: it never takes the place of the scheduled run of a
        day, and none is replaced (a run id already used is Airflow's 409)."""
        return self._send("POST", f"/api/v2/dags/{dag_id}/dagRuns",
                          {"dag_run_id": run_id, "logical_date": None, "conf": conf})

    def dag_run(self, dag_id: str, run_id: str) -> dict:
        return self._send("GET", f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        """Every task instance of the run, page by page: Airflow gives at most [api]
        maximum_page_limit (100 by default) a request, whatever the limit asked, and a run of 25
        shards or more has more."""
        path = f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances"
        listed: list[dict] = []
        while True:
            page = self._send("GET", f"{path}?limit=100&offset={len(listed)}")
            listed += page["task_instances"]
            if not page["task_instances"] or len(listed) >= page["total_entries"]:
                return listed

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value"):
        """A task's XCom value as stored (JSON), or None while it has none."""
        path = (f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances/"
                f"{task_id}/xcomEntries/{key}")
        try:
            value = self._send("GET", path)["value"]
        except AirflowApiError as exc:
            if exc.status == 404:
                return None
            raise
        for _ in range(2):  # the column holds JSON; some backends return it encoded once more
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    break
        return value

    def mark_failed(self, dag_id: str, run_id: str, within: float = MARK_FAILED_WITHIN) -> str:
        """End the run: Airflow marks its running task instances failed, the others skipped, and
        stops them. Returns the run's state after: failed, or success if it ended first.

        Airflow's API answers HTTP 500 "Database error" for any error of its database session, and
        two of them pass: its transaction (task instances, then the run) can deadlock with the
        scheduler's (the run locked, then its task instances), and PostgreSQL aborts one (seen:
        "deadlock detected ... while updating tuple in relation dag_run", at load 15); on a
        loaded machine its connection pool can have no free connection within its timeout. So a
        5xx and an unanswered request are tried again, with back-off, for `within` seconds; before
        each retry the run's state is read, so that a run that ended meanwhile is left as it is."""
        path = f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}"
        deadline, delay = time.monotonic() + within, 1.0
        while True:
            try:
                return self._send("PATCH", path, {"state": "failed"})["state"]
            except AirflowApiError as exc:
                if (exc.status is not None and exc.status < 500) or time.monotonic() + delay > deadline:
                    raise
                log.warning("marking run %s failed: %s; trying again in %.0f s", run_id, exc, delay)
            time.sleep(delay)
            delay = min(2 * delay, 8.0)
            try:
                state = self.dag_run(dag_id, run_id)["state"]
            except AirflowApiError:
                continue  # the PATCH tells
            if state in ("success", "failed"):
                return state
