"""`make airflow`'s log servers, on the loopback interface only.

Airflow's scheduler (LocalExecutor), Celery worker and triggerer each start a log server that
listens on every interface (host "" in airflow.utils.serve_logs, not configurable) and serves the
task logs, which name sources, URLs and errors, to anyone who can reach the port. `make airflow`
starts them with --skip-serve-logs and runs these instead: Airflow's own log-server app, bound to
127.0.0.1, on the same ports (`[logging] worker_log_server_port` / `trigger_log_server_port`).

    python -m news_etl.local_log_server worker|trigger
"""

from __future__ import annotations

import sys

LOG_SERVER_HOST = "127.0.0.1"
PORT_SETTINGS = {"worker": "worker_log_server_port", "trigger": "trigger_log_server_port"}


def loopback_hostname() -> str:
    """`[core] hostname_callable` of `make airflow`: the API server fetches a running task's log
    from http://<the task's hostname>:<port>/, which must be the address the log servers listen on."""
    return LOG_SERVER_HOST


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in PORT_SETTINGS:
        print(f"usage: python -m news_etl.local_log_server {'|'.join(PORT_SETTINGS)}", file=sys.stderr)
        return 2
    import uvicorn
    from airflow.configuration import conf

    port = conf.getint("logging", PORT_SETTINGS[argv[0]])
    uvicorn.run("airflow.utils.serve_logs.log_server:get_app", host=LOG_SERVER_HOST, port=port,
                log_config=None, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
