"""Faults and hostile input: the fault matrix (each fault's defined outcome, nothing lost, nothing
duplicated, bounded retries and memory), the address guard, a PostgreSQL server killed in the
middle of a load, and passwords kept out of errors."""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import sys
import threading
import time
from datetime import date
from pathlib import Path

import psycopg2
import pytest

from helpers import rows
from news_etl import embedded, pipeline, warehouse
from news_etl.errors import FetchError
from news_etl.fetch import AddressGuard, refused_kind

sys.path.insert(0, str(Path(__file__).parent / "faults"))
import matrix  # noqa: E402
from server import FaultServer  # noqa: E402


@pytest.fixture(scope="module")
def fault_server():
    server = FaultServer({})
    yield server
    server.close()


@pytest.fixture(scope="module")
def fault_dsn(postgres):
    """One warehouse for the whole matrix: every fault has sources of its own names."""
    postgres.ensure_database("fault_matrix")
    dsn = postgres.dsn("fault_matrix")
    warehouse.upgrade(dsn)
    return dsn


@pytest.fixture
def fault_env(monkeypatch):
    for key in [*matrix.SETTINGS_ENV, "NEWS_ETL_STATE_DIR"]:
        monkeypatch.delenv(key, raising=False)  # run_fault sets them; monkeypatch restores them after


@pytest.mark.parametrize("fault", matrix.FAULTS, ids=[f.name for f in matrix.FAULTS])
def test_fault_has_its_defined_outcome(fault, fault_server, fault_env, fault_dsn, tmp_path):
    dsn = fault_dsn
    o = matrix.run_fault(fault, fault_server, dsn, tmp_path)
    assert o.fetch_outcome == fault.outcome
    assert re.search(fault.reason, o.reason) if fault.reason else o.reason == "", o.reason
    assert (o.rows_lost, o.rows_duplicated, o.quarantined) == (0, 0, fault.quarantined)
    assert o.loaded == len(matrix.GOOD) + fault.loads_extra
    assert o.bystander_loaded == 3  # the other source of the run is unaffected
    retries = int(matrix.SETTINGS_ENV["NEWS_ETL_RETRIES"])
    assert o.requests <= {"redirect-loop": 1 + 5}.get(fault.name, 1 + retries)
    assert o.peak_memory_mb < 32  # every response is capped at 10 MiB and streamed
    stored = " ".join(t or "" for (t,) in rows(
        dsn, "SELECT coalesce(title, '') || ' ' || coalesce(body, '') FROM news.stage_article WHERE source = %s",
        (f"victim-{fault.name}",)))
    assert "root:" not in stored and "lollol" not in stored  # no entity was ever expanded
    if fault.name == "non-utf8-page":
        assert "café article" in stored


@pytest.mark.parametrize("scenario", matrix.SCENARIOS, ids=[s.name for s in matrix.SCENARIOS])
def test_scenario_has_its_defined_outcome(scenario, postgres, fault_env, tmp_path):
    o = matrix.run_scenario(scenario, tmp_path, postgres)
    assert o.ok, f"{scenario.name}: expected {scenario.expect}; got {o.fetch_outcome}: {o.detail or o.reason}"
    assert (o.rows_lost, o.rows_duplicated) == (0, 0)


@pytest.mark.parametrize("address, kind", [
    ("::127.0.0.1", "IPv4-compatible"), ("::ffff:10.0.0.1", "IPv4-mapped"), ("64:ff9b::a00:1", "NAT64"),
    ("2002:a00:1::1", "6to4"), ("2001::1", "Teredo"), ("fec0::1", "site-local"), ("::1", "private"),
    ("::", "private"), ("127.0.0.2", "private"), ("ff02::1", "multicast"), ("100.64.0.1", "non-global"),
    ("93.184.215.14", None), ("2606:4700:4700::1111", None),
])
def test_refused_addresses_are_named_by_kind(address, kind):
    assert refused_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("allow, url, refused", [
    ((), "http://93.184.215.14/x", False),
    ((), "http://127.0.0.1:8750/x", True),
    ((), "http://10.1.2.3/x", True),
    ((), "http://192.168.0.1/x", True),
    ((), "http://169.254.169.254/latest/meta-data", True),  # cloud metadata
    ((), "http://[::1]/x", True),
    ((), "http://224.0.0.1/x", True),
    ((), "http://0.0.0.0/x", True),
    ((), "ftp://93.184.215.14/x", True),
    ((), "http://[2606:4700:4700::1111]/x", False),  # a public IPv6 address
    # IPv4 behind IPv6: compatible, mapped (even of a public address), NAT64, 6to4, Teredo
    ((), "http://[::127.0.0.1]/x", True),
    ((), "http://[::ffff:127.0.0.1]/x", True),
    ((), "http://[::ffff:93.184.215.14]/x", True),
    ((), "http://[64:ff9b::7f00:1]/x", True),
    ((), "http://[64:ff9b:1::a00:1]/x", True),
    ((), "http://[2002:7f00:1::1]/x", True),
    ((), "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x", True),
    ((), "http://[fec0::1]/x", True),  # site-local
    ((), "http://[fe80::1]/x", True),  # link-local
    ((), "http://[fc00::1]/x", True),  # unique local
    ((), "http://[ff02::1]/x", True),  # multicast
    ((), "http://[::]/x", True),  # unspecified
    ((), "http://100.64.0.1/x", True),  # shared address space (carrier-grade NAT)
    ((), "http://198.18.0.1/x", True),  # benchmarking
    ((), "http://240.0.0.1/x", True),  # reserved
    ((), "http://255.255.255.255/x", True),  # broadcast
    ((), "http://2130706433/x", True),  # 127.0.0.1 as one decimal number
    ((), "http://0x7f.1/x", True),  # 127.0.0.1 in hex shorthand
    (("127.0.0.1",), "http://[::ffff:127.0.0.1]/x", True),  # allowing 127.0.0.1 allows no translation of it
    (("127.0.0.1:8750",), "http://127.0.0.1:8750/x", False),
    (("127.0.0.1:8750",), "http://127.0.0.1:8751/x", True),
    (("127.0.0.1",), "http://127.0.0.1:9999/x", False),
    (("10.0.0.0/8",), "http://10.1.2.3/x", False),
    (("localhost",), "http://localhost:1234/x", False),
])
def test_address_guard(allow, url, refused):
    guard = AddressGuard(allow)
    if refused:
        with pytest.raises(FetchError, match="refused"):
            guard.check(url)
    else:
        guard.check(url)
    assert ipaddress.ip_address("93.184.215.14").is_global  # the public example really is public


def test_postgres_killed_mid_load_leaves_nothing_and_the_retry_loads_once(
        settings, sample_sources, tmp_path):
    """A PostgreSQL of its own, killed (SIGKILL) while the load's transaction is writing; after
    a restart the retried load writes every row exactly once."""
    data_dir = tmp_path / "pg"
    pg = embedded.start(data_dir, databases=("news",))
    dsn = pg.dsn("news")
    warehouse.upgrade(dsn)
    source = sample_sources["tehran-wire"]
    run = pipeline.Run(run_id="r", day=date(2024, 3, 1), dsn=dsn, settings=settings)
    pipeline.extract(source, run)
    staged = pipeline.transform(source, run)["parsed"]
    pipeline.check(source, run)
    # Make the merge slow, so that the kill lands inside it: every inserted article waits 0.2 s.
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("""CREATE FUNCTION public.slow_down() RETURNS trigger LANGUAGE plpgsql AS
                       $$ BEGIN PERFORM pg_sleep(0.2); RETURN NEW; END $$""")
        cur.execute("SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'news' AND c.relkind IN ('r', 'p') AND c.relname = 'article'")
        (table,) = cur.fetchone()
        cur.execute(f"CREATE TRIGGER slow_down BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION public.slow_down()")

    failure: list[BaseException] = []
    loader = threading.Thread(target=lambda: _capture(failure, pipeline.load, source, run))
    loader.start()
    time.sleep(1.0)  # about five rows into the merge
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    os.kill(postmaster, signal.SIGKILL)
    loader.join(30)
    assert failure and isinstance(failure[0], psycopg2.OperationalError)

    # The orphaned backends die with the postmaster; start again (crash recovery) and retry.
    _wait_until_gone(postmaster)
    pg = embedded.start(data_dir, databases=("news",))
    assert rows(dsn, "SELECT count(*) FROM news.article") == [(0,)]  # nothing partial survived
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(f"DROP TRIGGER slow_down ON {table}")
    assert pipeline.load(source, run)["loaded_new"] == staged
    assert pipeline.load(source, run)["loaded_new"] == 0
    assert rows(dsn, "SELECT count(*), count(DISTINCT story_code) FROM news.article") == [(staged, staged)]
    embedded.stop(data_dir)


def _capture(failure: list, fn, *args):
    try:
        fn(*args)
    except BaseException as exc:  # noqa: BLE001 - the test inspects it
        failure.append(exc)


def _wait_until_gone(pid: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def test_passwords_never_appear_in_errors_or_the_run_log(postgres, make_database, settings, sample_sources,
                                                          monkeypatch):
    """A warehouse role with a password: a wrong password fails the stages with errors that do not
    show it, and the DSN printed to users is redacted."""
    dsn, name = make_database()
    secret = "s3cret-Pa55word"
    with warehouse.connect(postgres.dsn("postgres")) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE ROLE etl LOGIN PASSWORD '{secret}'")
    (Path(postgres.data_dir) / "pg_hba.conf").write_text(
        "local all etl scram-sha-256\nlocal all all trust\n")
    with warehouse.connect(postgres.dsn("postgres")) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_reload_conf()")
    try:
        wrong = warehouse.dsn_from_connection(postgres.socket_dir, None, "etl", "not-" + secret, name)
        right = warehouse.dsn_from_connection(postgres.socket_dir, None, "etl", secret, name)
        psycopg2.connect(right).close()  # the right password works
        run = pipeline.Run(run_id="r", day=date(2024, 3, 1), dsn=wrong, settings=settings)
        for stage in (pipeline.extract, pipeline.transform, pipeline.check, pipeline.load):
            with pytest.raises(Exception) as err:
                stage(sample_sources["harbor-times"], run)
            assert secret not in str(err.value) and "not-" + secret not in str(err.value)
        with pytest.raises(Exception) as err:  # GX's SQL data source, given the URL with the password
            from news_etl.quality import run_checks
            run_checks(warehouse.sqlalchemy_url(wrong), "SELECT 1 AS stage_id", [], suite_name="s", docs_dir=None)
        assert secret not in str(err.value)
        assert secret not in warehouse.redact(right) and "***" in warehouse.redact(right)
        monkeypatch.setenv("AIRFLOW_CONN_NEWS_WAREHOUSE", f"postgresql://etl:{secret}@%2Fnowhere/{name}")
        from news_etl.local_run import airflow_env  # noqa: F401 - the printed psql line is redacted
        assert secret not in warehouse.redact(warehouse.dsn_from_airflow_env(os.environ["AIRFLOW_CONN_NEWS_WAREHOUSE"]))
    finally:
        (Path(postgres.data_dir) / "pg_hba.conf").write_text("local all all trust\n")
        with warehouse.connect(postgres.dsn("postgres")) as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_reload_conf()")
