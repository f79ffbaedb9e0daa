"""Asks the installed Airflow about a container's configuration; run by test_compose.py in a
subprocess whose environment holds the container's AIRFLOW__ settings (the CLI and the
configuration are read once per process, so each environment gets its own).

Reads JSON from stdin: {"commands": [argv, ...], "settings": {NAME: value}, "apps": ["module.attr", ...],
"ports": {"scheduler.scheduler_health_check_server_port": 8974, ...}} and prints a JSON list of
problems, each a sentence naming what is wrong.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import sys


def main() -> int:
    request = json.load(sys.stdin)
    from airflow.cli import cli_parser
    from airflow.configuration import conf

    problems = []
    parser = cli_parser.get_parser()
    for command in request["commands"]:
        if not command:
            continue  # `airflow` alone prints its help
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
                parser.parse_args(command)
        except SystemExit as exc:
            if exc.code:
                message = err.getvalue().strip().splitlines()[-1:] or [""]
                problems.append(f"`airflow {' '.join(command)}` is not a command of this Airflow: {message[0]}")

    options = conf.configuration_description
    for name, value in request["settings"].items():
        _, section, key = name.split("__", 2)
        section, key = section.lower(), key.lower()
        described = options.get(section, {}).get("options", {}).get(key)
        if described is None:
            problems.append(f"{name}: Airflow has no option [{section}] {key}")
            continue
        try:  # the value must read as the option's type
            if described.get("type") == "integer":
                int(value)
            elif described.get("type") == "boolean" and value.strip().lower() not in _BOOLEANS:
                raise ValueError("not a boolean")
            elif key in ("auth_manager", "executor"):
                _load(section, key)
        except Exception as exc:  # noqa: BLE001 - reported as a problem
            problems.append(f"{name}={value!r}: {type(exc).__name__}: {exc}")

    for app in request["apps"]:
        module, _, attribute = app.rpartition(".")
        try:
            getattr(importlib.import_module(module), attribute)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"celery --app {app}: {type(exc).__name__}: {exc}")

    for option, port in request["ports"].items():
        section, key = option.split(".")
        if str(conf.get(section, key)) != str(port):
            problems.append(f"port {port} is not where [{section}] {key} listens ({conf.get(section, key)})")

    print(json.dumps(problems))
    return 0


_BOOLEANS = {"t", "true", "1", "f", "false", "0"}  # what conf.getboolean accepts


def _load(section: str, key: str) -> None:
    if key == "auth_manager":
        from airflow.configuration import conf

        conf.getimport(section, key)
    else:
        from airflow.executors.executor_loader import ExecutorLoader

        for name in ExecutorLoader.get_executor_names():
            ExecutorLoader.load_executor(name)


if __name__ == "__main__":
    sys.exit(main())
