# Two commands a user needs: `make run` and `make test`. Everything else is for developers.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
DATE ?= $(shell date -u +%F)

.PHONY: run airflow test venv lock sample-sites db-upgrade db-url db-stop clean bench-extract bench-queries bench-clusters bench-checks bench-warc bench bench-scale faults

# The virtual environment is rebuilt whenever a lock file or pyproject.toml changes. Its modules are
# compiled once here (uv does not by default): where PYTHONDONTWRITEBYTECODE is set, as on CI
# machines, every Airflow task process would otherwise compile Airflow, and a check task Great
# Expectations, from source again (CPU s per import: 4.9 -> 1.7 and 9.0 -> 3.6; BENCHMARKS.md).
$(VENV)/.installed: requirements.lock requirements-dev.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements-dev.lock
	@$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

venv: $(VENV)/.installed

run: venv
	@$(BIN)/news-etl run --date $(DATE) $(if $(REPROCESS),--reprocess)

# A full local Airflow (UI on http://127.0.0.1:8080, scheduler, dag-processor, triggerer) until Ctrl-C.
airflow: venv
	@$(BIN)/news-etl airflow

# Two workers by default (pytest-xdist); the end-to-end tests all run on one of them (tests/conftest.py's
# scheduler), so the session's Airflow starts once. `make test PYTEST_XDIST=` runs in one process.
PYTEST_XDIST ?= -n 2

test: venv
	@$(BIN)/python -m pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

sample-sites: venv
	@$(BIN)/news-etl sample-sites

db-upgrade: venv
	@$(BIN)/news-etl db upgrade

db-url: venv
	@$(BIN)/news-etl db url

db-stop: venv
	@$(BIN)/news-etl db stop

# The parsers on real pages and feeds (../shared/realworld and ../shared/realworld-large, when present)
# beside trafilatura and htmldate, each set in a dev and a held-out half; peers cached in $TMPDIR.
# BENCH_ARGS="--only wcxb" keeps the matching sets, "-v" lists the dev half's misses.
bench-extract: venv
	@nice $(BIN)/python tests/bench/bench_extract.py $(BENCH_ARGS)

# The documented queries on 100,000 generated articles: EXPLAIN (ANALYZE) plans, indexes used, timings.
bench-queries: venv
	@$(BIN)/python tests/bench/bench_queries.py $(BENCH_ARGS)

# Story clusters on 1,000 generated stories carried by 1-5 outlets each: pair precision and recall,
# and what clustering adds to the load per article. ~2 min.
bench-clusters: venv
	@$(BIN)/python tests/bench/bench_clusters.py $(BENCH_ARGS)

# The quality gate's task time per source beyond the first in a shard's check task (a task of one
# source, then one of 36, three rounds in one process; wall and CPU), and the Data Docs site's
# growth. ~1 min.
bench-checks: venv
	@nice $(BIN)/python tests/bench/bench_checks.py $(BENCH_ARGS)

# Reading generated CC-NEWS-like WARC files filtered by host (MB/s of compressed input per core,
# beside warcio's own iterator) and the archive's objects per source and day; see BENCHMARKS.md. ~1 min.
bench-warc: venv
	@$(BIN)/python tests/bench/bench_warc.py $(BENCH_ARGS)

# The pipeline at 1,000 and 10,000 articles: parse, load, fetch, news_daily end to end (a real
# Airflow), peak memory per task, each beside its peer and scaled; see BENCHMARKS.md. ~15 min.
bench: venv
	@$(BIN)/python tests/bench/bench_pipeline.py $(BENCH_ARGS)

# news_daily at scale: 500 sources × 20 articles on 50 hosts through a real Airflow (two runs), and
# the DAG's parse time with 6, 500 and 5,000 source files; BENCH_ARGS="--sources 5000" for the full
# scale run (an hour or more on two cores). See BENCHMARKS.md, "Thousands of sources".
bench-scale: venv
	@nice $(BIN)/python tests/bench/bench_scale.py $(BENCH_ARGS)

# Regenerate the locks after changing requirements*.txt.
# The fault matrix (a table: fault, outcome, rows lost, rows duplicated, peak memory), then the
# property tests as a longer fuzz run. The same tests run, shorter, in `make test`.
faults: venv
	@$(BIN)/python tests/faults/matrix.py
	@HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_properties.py

lock: venv
	$(BIN)/uv pip compile --quiet --python-version 3.11 requirements.txt -o requirements.lock
	$(BIN)/uv pip compile --quiet --python-version 3.11 requirements-dev.txt -c requirements.lock -o requirements-dev.lock

clean:
	rm -rf $(VENV) .state
