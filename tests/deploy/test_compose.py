"""docker-compose.yaml checked without a Docker engine: against the Compose Specification's JSON
schema (check-jsonschema, which ships the schema with its licence), and against what the image
provides: every command and health check against the installed Airflow CLI, every environment
variable against what Airflow or this project reads, every service and volume referred to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from deploy_files import (
    COMPOSE_FILE,
    argv,
    builds_project_image,
    compose_variables,
    dockerfile_instructions,
    env_of,
    environment,
    healthcheck_argv,
    load_compose,
    project_settings,
)
from live_airflow import _free_port
from news_etl import PROJECT_DIR, alerts, warehouse

BIN = Path(sys.executable).parent
COMPOSE = load_compose()
SERVICES = COMPOSE["services"]
PROJECT_SERVICES = {name: s for name, s in SERVICES.items() if builds_project_image(s)}
# Variables the official image's entrypoint reads (Airflow's docker-stack docs, "Entrypoint"), and
# the official postgres image's; neither image is on this machine to ask.
ENTRYPOINT_VARIABLES = {"CONNECTION_CHECK_MAX_COUNT", "CONNECTION_CHECK_SLEEP_TIME", "DUMB_INIT_SETSID",
                        "_AIRFLOW_DB_MIGRATE", "_AIRFLOW_WWW_USER_CREATE", "_PIP_ADDITIONAL_REQUIREMENTS"}
AIRFLOW_VARIABLES = {"AIRFLOW_CONFIG", "AIRFLOW_HOME"}
POSTGRES_VARIABLES = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}
# What the health checks may run in each image: the official Airflow image has curl (Airflow's own
# compose file uses it), python, airflow and celery; postgres has pg_isready; redis has redis-cli.
HEALTHCHECK_TOOLS = {"project": {"curl", "python", "airflow", "celery"}, "postgres": {"pg_isready"},
                     "redis": {"redis-cli"}}


def _image_kind(service: dict) -> str:
    if builds_project_image(service):
        return "project"
    return service["image"].split(":")[0].split("/")[-1]


# --- the Compose Specification ---------------------------------------------------------------------

def _compose_schema() -> dict:
    path = resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json"
    return json.loads(path.read_text())


def test_compose_file_matches_the_compose_specification():
    result = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
                             str(COMPOSE_FILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    # Also once interpolated, as `docker compose config` would see it, with defaults and with values.
    for env in ({}, {"AIRFLOW_UID": "1000", "AIRFLOW_UI_PORT": "8081", "NEWS_WAREHOUSE_PORT": "6543"}):
        jsonschema.validate(load_compose(env), _compose_schema())


@pytest.mark.parametrize("change, error", [
    (lambda c: c["services"]["redis"].update(restart_policy="always"), "'restart_policy' was unexpected"),
    (lambda c: c["services"]["airflow-scheduler"].update(depends_on="postgres"), "is not valid under any"),
    (lambda c: c["services"]["postgres"]["healthcheck"].update(every="10s"), "'every' does not match"),
    (lambda c: c["services"]["warehouse"]["healthcheck"].update(retries=[5]), "is not of type"),
    (lambda c: c.update(volumes=["news-archive"]), "is not of type 'object'"),
])
def test_the_schema_check_rejects_a_broken_file(tmp_path, change, error):
    """The validator really validates: small mistakes in a copy of the file are reported."""
    broken = yaml.safe_load(COMPOSE_FILE.read_text())
    change(broken)
    path = tmp_path / "docker-compose.yaml"
    path.write_text(yaml.safe_dump(broken))
    result = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 1 and error in result.stdout, result.stdout + result.stderr


# --- services, volumes, ports ----------------------------------------------------------------------

def test_services_and_volumes_referred_to_exist():
    declared_volumes = set(COMPOSE["volumes"])
    used_volumes = set()
    for name, service in SERVICES.items():
        for target, condition in (service.get("depends_on") or {}).items():
            assert target in SERVICES, f"{name} depends on {target}, which is no service"
            assert not SERVICES[target].get("profiles"), f"{name} depends on {target}, which only runs in a profile"
            if condition["condition"] == "service_healthy":
                assert SERVICES[target].get("healthcheck"), f"{name} waits for {target} to be healthy: it has no check"
            if condition["condition"] == "service_completed_successfully":
                assert "restart" not in SERVICES[target], f"{name} waits for {target} to end, but it restarts"
        for volume in service.get("volumes") or []:
            source, target = volume.split(":")[:2]
            if not source.startswith((".", "/")):
                assert source in declared_volumes, f"{name} mounts volume {source}, which is not declared"
                used_volumes.add(source)
        assert _image_kind(service) in HEALTHCHECK_TOOLS, f"{name}: unexpected image {service.get('image')}"
    assert declared_volumes == used_volumes, f"declared but never mounted: {declared_volumes - used_volumes}"


def test_host_ports_are_distinct_and_the_databases_are_not_on_every_interface():
    published = [(name, str(p)) for name, s in SERVICES.items() for p in s.get("ports") or []]
    host_ports = [p.rsplit(":", 2)[-2] for _, p in published]
    assert len(host_ports) == len(set(host_ports)), published
    for name, port in published:
        if _image_kind(SERVICES[name]) in ("postgres", "redis"):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond this machine"


# --- commands and settings against the installed Airflow -----------------------------------------

def _airflow_commands(service: dict) -> list[list[str]]:
    """The airflow command lines a service runs: its command (the image's entrypoint runs
    `airflow <command>` unless it starts with bash or python), the airflow lines of a bash script,
    and an airflow health check."""
    commands = []
    command = argv(service.get("command") or [])
    if service.get("entrypoint") == "/bin/bash" or command[:1] == ["bash"]:
        script = command[-1]
        for line in script.splitlines():
            words = line.split()
            if words[:1] in (["/entrypoint"], ["exec"]):
                words = words[1:]
            if words[:1] == ["airflow"]:
                commands.append(words[1:])
    elif command[:1] != ["python"]:
        commands.append(command[1:] if command[:1] == ["airflow"] else command)
    check = healthcheck_argv(service) or []
    if check[:1] == ["airflow"]:
        commands.append(check[1:])
    return commands


def _probe(env: dict[str, str], request: dict, home: Path) -> subprocess.Popen:
    """airflow_probe.py on the container's settings, in a throwaway AIRFLOW_HOME here (the
    container's own paths do not exist here)."""
    probe_env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW"))}
    probe_env.update({k: v for k, v in env.items() if k.startswith("AIRFLOW__") and not k.endswith("_FOLDER")})
    probe_env["AIRFLOW_HOME"] = str(home)
    home.mkdir(parents=True)
    (home / "request.json").write_text(json.dumps(request))
    with open(home / "request.json") as stdin:
        return subprocess.Popen([sys.executable, str(Path(__file__).with_name("airflow_probe.py"))], env=probe_env,
                                stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _dockerfile_env() -> dict[str, str]:
    env = {}
    for instruction in dockerfile_instructions():
        if instruction.keyword == "ENV":
            env.update(env_of(instruction))
    return env


def test_commands_health_checks_and_settings_exist_in_the_installed_airflow(tmp_path):
    """Per service of the project's image: its airflow commands parse with this Airflow's CLI (the
    `celery` group exists only with the CeleryExecutor, so the service's own settings are used),
    each AIRFLOW__SECTION__KEY is an option of this Airflow and its providers and reads as the
    option's type, the Celery app of the worker's health check imports, and the ports that health
    checks ask are the ones Airflow listens on."""
    requests: dict[str, tuple[list[str], dict, dict]] = {}  # services with the same settings ask together
    for name, service in PROJECT_SERVICES.items():
        env = {**_dockerfile_env(), **environment(service)}
        settings = {k: v for k, v in env.items() if k.startswith("AIRFLOW__")}
        names, _, request = requests.setdefault(json.dumps(settings, sort_keys=True), (
            [], env, {"commands": [], "settings": settings, "apps": [], "ports": {}}))
        names.append(name)
        request["commands"] += _airflow_commands(service)
        check = healthcheck_argv(service) or []
        if check[:1] == ["celery"]:
            request["apps"].append(check[check.index("--app") + 1])
        if check[:1] == ["curl"]:
            port = urlsplit(check[-1]).port
            request["ports"].update({"api-server": {"api.port": port},
                                     "scheduler": {"scheduler.scheduler_health_check_server_port": port},
                                     "celery flower": {"celery.flower_port": port}}[" ".join(_airflow_commands(service)[0])])
    probes = {", ".join(names): _probe(env, request, tmp_path / names[0]) for names, env, request in requests.values()}
    problems = {}
    for names, probe in probes.items():
        out, err = probe.communicate(timeout=300)
        assert probe.returncode == 0, err[-3000:]
        problems[names] = json.loads(out.strip().splitlines()[-1])
    assert problems and all(not p for p in problems.values()), problems
    assert ["celery", "worker"] in _airflow_commands(SERVICES["airflow-worker"])


def test_health_checks_use_tools_their_image_has():
    for name, service in SERVICES.items():
        check = healthcheck_argv(service)
        if check is None:
            continue
        assert check[0] in HEALTHCHECK_TOOLS[_image_kind(service)], f"{name}: {check[0]} in its health check"
        if check[0] == "celery":
            assert (BIN / "celery").exists()


def test_environment_variables_are_ones_airflow_or_this_project_reads():
    reads = project_settings()
    for name, service in SERVICES.items():
        env = environment(service)
        script = " ".join(argv(service.get("command") or []))
        for variable in env:
            if _image_kind(service) == "postgres":
                known = variable in POSTGRES_VARIABLES
            elif variable.startswith("AIRFLOW__"):
                known = True  # each one is checked against Airflow's options above
            elif variable.startswith("AIRFLOW_CONN_"):
                known = variable in (f"AIRFLOW_CONN_{warehouse.CONN_ID.upper()}",
                                     f"AIRFLOW_CONN_{alerts.WEBHOOK_CONN_ID.upper()}")
            elif variable.startswith("NEWS_"):
                known = variable in reads
            else:  # the image's, Airflow's, or read by the service's own script
                known = variable in ENTRYPOINT_VARIABLES | AIRFLOW_VARIABLES or variable in script
            assert known, f"{name}: {variable} is read by neither Airflow, its image nor this project"


# --- what points where ------------------------------------------------------------------------------

@pytest.mark.parametrize("env", [{}, {"NEWS_WAREHOUSE_PASSWORD": "s3cret", "_AIRFLOW_WWW_USER_USERNAME": "ana"}])
def test_connections_point_at_the_services_that_serve_them(env):
    compose = load_compose(env)
    services = compose["services"]
    warehouse_env = environment(services["warehouse"])
    metadata_env = environment(services["postgres"])
    for name, service in compose["services"].items():
        if not builds_project_image(service) or name == "sample-sites":
            continue
        airflow = environment(service)
        dsn = dict(p.split("=", 1) for p in warehouse.dsn_from_airflow_env(airflow["AIRFLOW_CONN_NEWS_WAREHOUSE"]).split())
        assert dsn == {"host": "warehouse", "port": "5432", "user": warehouse_env["POSTGRES_USER"],
                       "password": warehouse_env["POSTGRES_PASSWORD"], "dbname": warehouse_env["POSTGRES_DB"]}, name
        for setting in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND"):
            url = urlsplit(airflow[setting])
            assert (url.hostname, url.username, url.password, url.path.lstrip("/")) == (
                "postgres", metadata_env["POSTGRES_USER"], metadata_env["POSTGRES_PASSWORD"],
                metadata_env["POSTGRES_DB"]), (name, setting)
        assert urlsplit(airflow["AIRFLOW__CELERY__BROKER_URL"]).hostname == "redis"
        api = urlsplit(airflow["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
        assert (api.hostname, api.port, api.path) == ("airflow-apiserver", 8080, "/execution/")
        assert "8080" in [p.rsplit(":", 1)[-1] for p in services["airflow-apiserver"]["ports"]]
        sample = urlsplit(airflow["NEWS_SAMPLE_URL"])
        command = argv(services["sample-sites"]["command"])
        assert (sample.hostname, str(sample.port)) == ("sample-sites", command[command.index("--port") + 1])
        assert f"{sample.hostname}:{sample.port}" in airflow["NEWS_ETL_ALLOW_HOSTS"].split(",")
        user = airflow["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(":")[0]
        assert user == env.get("_AIRFLOW_WWW_USER_USERNAME", "airflow")


def test_archive_reports_and_data_docs_are_on_named_volumes(monkeypatch):
    """Where the tasks write (Settings from the image's and the worker's environment) is a named
    volume in every Airflow container, so it outlives containers and is shared by all workers."""
    from news_etl.settings import Settings

    for name, service in PROJECT_SERVICES.items():
        if name == "sample-sites":
            continue
        env = {**_dockerfile_env(), **environment(service)}
        for variable in [v for v in os.environ if v.startswith("NEWS_ETL_")]:
            monkeypatch.delenv(variable)
        for variable, value in env.items():
            if variable.startswith("NEWS_ETL_"):
                monkeypatch.setenv(variable, value)
        settings = Settings.from_env()
        mounts = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
        for path in (settings.archive_root, settings.reports_dir, settings.data_docs_root):
            assert str(path) in mounts and mounts[str(path)] in COMPOSE["volumes"], (name, path, mounts)


def test_sample_sites_command_serves_and_its_health_check_passes(tmp_path):
    """The sample-sites service's command, run here (on 127.0.0.1 and a free port instead of the
    container's 0.0.0.0:8750), answers its own health check."""
    service = SERVICES["sample-sites"]
    command, check = argv(service["command"]), healthcheck_argv(service)
    port = str(_free_port())
    port_in = command[command.index("--port") + 1]
    command = [sys.executable if w == "python" else "127.0.0.1" if w == "0.0.0.0" else port if w == port_in else w
               for w in command]
    check = [sys.executable if w == "python" else w.replace(f"localhost:{port_in}", f"localhost:{port}")
             for w in check]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(check, capture_output=True, timeout=30).returncode != 0:
            assert server.poll() is None and time.monotonic() < deadline, "the sample-sites command did not serve"
            time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=30)


# --- documentation ---------------------------------------------------------------------------------

def _readme_settings_table() -> str:
    text = (PROJECT_DIR / "README.md").read_text()
    section = text.split("\n### Settings\n", 1)[1].split("\n### ", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("|"))


def test_every_setting_is_in_the_readme_settings_table():
    table = _readme_settings_table()
    missing = sorted(name for name in project_settings() if f"`{name}`" not in table)
    assert not missing, f"settings read by the project but not in README's Settings table: {missing}"


def test_every_variable_of_the_compose_file_is_documented():
    readme = (PROJECT_DIR / "README.md").read_text()
    header = COMPOSE_FILE.read_text().split("\n---\n", 1)[0]
    for variable in compose_variables():
        if variable.startswith("NEWS_ETL_"):
            continue  # the settings table has these
        assert f"`{variable}`" in readme and variable in header, f"{variable} is not documented"


def test_the_dockerfile_and_compose_agree_on_the_state_folder():
    state = _dockerfile_env()["NEWS_ETL_STATE_DIR"]
    mkdirs = " ".join(i.arguments for i in dockerfile_instructions() if i.keyword == "RUN" and "install -d" in i.arguments)
    for name, service in PROJECT_SERVICES.items():
        for volume in service.get("volumes") or []:
            target = volume.split(":")[1]
            # A new named volume copies the ownership of the image's folder: it must exist there,
            # owned by the airflow user, unless airflow-init creates and chowns it.
            init_script = " ".join(argv(SERVICES["airflow-init"]["command"]))
            assert target in mkdirs or ("mkdir -p" in init_script and target in init_script), (name, target)
            if target.startswith(state):
                assert target in mkdirs, (name, target)
