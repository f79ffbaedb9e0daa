"""What the deployments expose: docker-compose.yaml publishes every port on 127.0.0.1 unless told
otherwise, Flower never runs without a password, and `make airflow`'s log servers listen on
127.0.0.1 only (Airflow's own listen on every interface)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import psutil
import pytest

from deploy_files import argv, environment, load_compose
from live_airflow import _free_port
from news_etl import local_airflow


def _published(compose: dict) -> dict[str, list[str]]:
    return {name: [str(p) for p in s.get("ports") or []] for name, s in compose["services"].items()}


def test_every_published_port_is_on_this_machine_only_by_default():
    published = _published(load_compose())
    assert published["airflow-apiserver"] == ["127.0.0.1:8080:8080"]
    assert published["flower"] == ["127.0.0.1:5555:5555"]
    for name, ports in published.items():
        for port in ports:
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond this machine"


def test_the_ui_and_flower_are_exposed_only_when_asked():
    published = _published(load_compose({"AIRFLOW_UI_ADDRESS": "0.0.0.0", "AIRFLOW_UI_PORT": "9090"}))
    assert published["airflow-apiserver"] == ["0.0.0.0:9090:8080"]
    assert published["flower"] == ["127.0.0.1:5555:5555"]
    assert _published(load_compose({"FLOWER_ADDRESS": "10.1.2.3"}))["flower"] == ["10.1.2.3:5555:5555"]


@pytest.mark.parametrize("password, refused", [(None, True), ("", True), ("ops:s3cret", False)])
def test_flower_refuses_to_start_without_a_password(tmp_path, password, refused):
    """The flower service's own script, run by bash; `airflow` is not run (a Flower without broker
    would wait): the script's last line is replaced by a report of what it would exec."""
    env_given = {} if password is None else {"FLOWER_BASIC_AUTH": password}
    flower = load_compose(env_given)["services"]["flower"]
    script = argv(flower["command"])[-1]
    assert script.rstrip().endswith("exec airflow celery flower")
    script = script.rstrip().removesuffix("exec airflow celery flower") + "echo would start flower"
    env = {"PATH": os.environ["PATH"], **environment(flower)}
    env = {k: v for k, v in env.items() if v is not None}
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=30)
    if refused:
        assert done.returncode == 1 and "Flower needs a password: set FLOWER_BASIC_AUTH" in done.stderr
    else:
        assert done.returncode == 0 and done.stdout.strip() == "would start flower"
        assert environment(flower)["AIRFLOW__CELERY__FLOWER_BASIC_AUTH"] == "ops:s3cret"


def test_airflow_flower_takes_its_basic_auth_from_that_setting():
    code = ("from airflow.providers.celery.cli.definition import ARG_FLOWER_BASIC_AUTH as a; "
            "print(a.kwargs['default'])")
    env = {**os.environ, "AIRFLOW__CELERY__FLOWER_BASIC_AUTH": "ops:s3cret", "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "ops:s3cret", done.stderr[-2000:]


@pytest.mark.parametrize("executor", ["LocalExecutor", "CeleryExecutor"])
def test_make_airflow_starts_no_log_server_of_airflows_own(executor):
    commands = local_airflow.components({"AIRFLOW__CORE__EXECUTOR": executor})
    for name in ("scheduler", "triggerer", *(["celery-worker"] if executor == "CeleryExecutor" else [])):
        assert "--skip-serve-logs" in commands[name], name
    assert commands["worker-log-server"][-2:] == ["news_etl.local_log_server", "worker"]
    assert commands["trigger-log-server"][-2:] == ["news_etl.local_log_server", "trigger"]
    env = {"AIRFLOW_HOME": "/nowhere"}
    local_airflow.configure(env)
    assert env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] == "news_etl.local_log_server.loopback_hostname"


@pytest.mark.parametrize("kind, setting", [("worker", "WORKER_LOG_SERVER_PORT"), ("trigger", "TRIGGER_LOG_SERVER_PORT")])
def test_make_airflows_log_servers_listen_on_127_0_0_1_only(tmp_path, kind, setting):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(AIRFLOW_HOME=str(tmp_path), **{f"AIRFLOW__LOGGING__{setting}": str(port)})
    proc = subprocess.Popen([sys.executable, "-m", "news_etl.local_log_server", kind], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        listening = []
        while not listening:
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "the log server did not listen within 120 s"
            listening = [c.laddr for c in psutil.Process(proc.pid).net_connections(kind="inet")
                         if c.status == psutil.CONN_LISTEN]
            time.sleep(0.2)  # polling a starting process: bounded by the deadline above
        assert [(a.ip, a.port) for a in listening] == [("127.0.0.1", port)]
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
    finally:
        proc.terminate()
        proc.wait(timeout=30)
