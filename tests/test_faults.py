"""gb2 through a real fault-injecting proxy: each fault on the routes that matter, then the
everyday loop at a seeded 10 % (the reduced version runs by default; the full one is ``slow``)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gb2.client.rucio import RucioClient
from tests.cli import FAST, RELEASE, UUBAR, Grid
from tests.faults.grid import behind_proxy
from tests.faults.proxy import FaultProxy, Rule

BIN = Path(sys.executable).parent


def faulty_grid(server_factory, capsys, *rules: Rule, rate: float = 0.0, seed: int = 1, **server) -> tuple[Grid, FaultProxy]:
    """A grid whose profile "faulty" reaches the server only through a fault proxy
    (storage and sandbox URLs too: the server's public URL is the proxy's)."""
    proxy = FaultProxy(rate=rate, rules=rules, seed=seed, stall_seconds=2.5)
    srv = behind_proxy(server_factory, proxy, "faulty", **{"run_engine": True, "workers": 2, **FAST, **server})
    return Grid(srv, "faulty", capsys), proxy


@pytest.fixture
def proxies():
    started: list[FaultProxy] = []
    yield started
    for proxy in started:
        proxy.stop()


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch):
    monkeypatch.setenv("GB2_HTTP_TIMEOUT", "1.5")
    monkeypatch.setenv("GB2_RETRIES", "6")


def faults_of(proxy: FaultProxy, pattern: str) -> list[str]:
    return [e.fault for e in proxy.stats.events if e.fault and pattern in e.route]


def test_read_only_posts_and_500s_are_retried(server_factory, capsys, proxies):
    grid, proxy = faulty_grid(server_factory, capsys, Rule(r"^POST /api/jobs/(search|summary)$", 1.0, ("500",), limit=4))
    proxies.append(proxy)
    assert grid.run("gb2_proxy_init").code == 0
    r = grid.run("gb2_project_summary", "--debug")
    assert r.code == 0, r.err
    assert len(faults_of(proxy, "/api/jobs/s")) == 4
    retries = [line for line in r.err.splitlines() if line.startswith("gb2_project_summary: retry ")]
    assert len(retries) == 4, r.err  # never silent under --debug: one line per retry
    assert "HTTP 500" in retries[0]


@pytest.mark.parametrize("fault", ["reset", "truncate"])
def test_listings_cut_mid_body_resume_without_repeating_rows(server, tmp_path, proxies, fault):
    from tests.helpers import login

    dx = login(server, "alice", tmp_path)
    clean = RucioClient(f"{server.url}/rucio", token=dx.access_token)
    did = clean.did(UUBAR)
    expected = list(clean.list_files(did.scope, did.name))
    proxy = FaultProxy(server.url, rules=(Rule(r"/files$", 1.0, (fault,), limit=2),), seed=3).start()
    proxies.append(proxy)
    cut = RucioClient(f"{proxy.url}/rucio", token=dx.access_token)
    assert list(cut.list_files(did.scope, did.name)) == expected
    assert faults_of(proxy, "/files") == [fault, fault]
    replicas = list(cut.list_replicas([did]))
    assert len({(r["scope"], r["name"]) for r in replicas}) == len(replicas) == len(expected)


def test_login_survives_faults_on_every_step_of_the_device_flow(server_factory, capsys, proxies):
    rules = (Rule(r"^POST /api/auth/token$", 1.0, ("500", "reset", "503"), limit=3),
             Rule(r"^GET /api/auth/device$", 1.0, ("500",), limit=1),
             Rule(r"^POST /api/auth/device$", 1.0, ("truncate",), limit=1))  # fmt: skip
    grid, proxy = faulty_grid(server_factory, capsys, *rules)
    proxies.append(proxy)
    r = grid.run("gb2_proxy_init")
    assert r.code == 0, r.err
    assert len(faults_of(proxy, "/api/auth/")) == 5
    assert grid.run("gb2_proxy_info").code == 0


def test_lost_answer_to_project_creation_is_reconciled(server_factory, capsys, proxies, tmp_path):
    steering = tmp_path / "quick.py"
    steering.write_text("import basf2\n")
    # the container's creation reaches the server, its answer is lost, and the retry says "exists"
    rule = Rule(r"^POST /rucio/dids/user\.alice/.*lost$", 1.0, ("500",), limit=1)
    grid, proxy = faulty_grid(server_factory, capsys, rule)
    proxies.append(proxy)
    assert grid.run("gb2_proxy_init").code == 0
    r = grid.run("gbasf2", str(steering), "-p", "lost", "-s", RELEASE, "--repetition", "3", "--force", "--json")
    assert r.code == 0, r.err
    assert faults_of(proxy, "lost") == ["500"]
    assert len(r.json()["job_ids"]) == 3


def test_rerun_after_a_first_run_that_only_made_the_container(server_factory, capsys, proxies, tmp_path, monkeypatch):
    steering = tmp_path / "quick.py"
    steering.write_text("import basf2\n")
    # the sandbox upload fails for good: the first run stops after making the container
    grid, proxy = faulty_grid(server_factory, capsys, Rule(r"^POST /api/jobs/sandbox$", 1.0, ("503",), limit=6))
    proxies.append(proxy)
    assert grid.run("gb2_proxy_init").code == 0
    args = ("gbasf2", str(steering), "-p", "again", "-s", RELEASE, "--repetition", "2", "--force")
    first = grid.run(*args)
    assert first.code == 6, first.err
    other = tmp_path / "other.py"
    other.write_text("import basf2\nprint('another analysis')\n")
    refused = grid.run("gbasf2", str(other), *args[2:])  # another plan may not take the name
    assert refused.code == 2 and "already exists" in refused.err
    second = grid.run(*args)  # the same plan carries on without --resume
    assert second.code == 0, second.err
    assert "created by an earlier run of this same submission" in second.out
    assert "2 jobs submitted" in second.out


def test_stalled_answers_time_out_and_are_retried(server_factory, capsys, proxies):
    grid, proxy = faulty_grid(server_factory, capsys, Rule(r"^POST /api/jobs/search$", 1.0, ("stall",), limit=1))
    proxies.append(proxy)
    assert grid.run("gb2_proxy_init").code == 0
    started = time.monotonic()
    r = grid.run("gb2_job_status", "--json")
    assert r.code == 0, r.err
    assert faults_of(proxy, "/api/jobs/search") == ["stall"]
    assert time.monotonic() - started < 10


def test_downloads_go_through_a_proxy_in_front_of_the_server(server_factory, capsys, proxies, tmp_path):
    rules = (Rule(r"^GET /se/", 1.0, ("truncate", "reset", "500"), limit=3),)
    grid, proxy = faulty_grid(server_factory, capsys, *rules)
    proxies.append(proxy)
    assert grid.run("gb2_proxy_init").code == 0
    r = grid.run("gb2_ds_get", f"{UUBAR}/sub00", "-d", str(tmp_path / "dl"), "--force", "--json")
    assert r.code == 0, r.err
    assert len(faults_of(proxy, "GET /se/")) == 3  # the bytes went through the proxy
    got = sorted(p.name for p in (tmp_path / "dl").rglob("*") if p.is_file())
    assert got and not [n for n in got if "gb2part" in n]


def assert_stops_at_ctrl_c(proc: subprocess.Popen, tool: str) -> None:
    """Ctrl-C ends ``tool`` within 3 s with exit code 130 and one error line, no traceback."""
    proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert time.monotonic() - started < 3
    assert err.strip().splitlines()[-1] == f"{tool}: error: aborted" and "Traceback" not in err


def test_ctrl_c_stops_retries_at_once(tmp_path, proxies, server):
    proxy = FaultProxy(server.url, rate=1.0, faults=("503",)).start()
    proxies.append(proxy)
    env = {**os.environ, "GB2_CONFIG_DIR": str(tmp_path / "c"), "GB2_CACHE_DIR": str(tmp_path / "k"),
           "GB2_DATA_DIR": str(tmp_path / "d"), "GB2_RETRIES": "50", "GB2_RETRY_WAIT": "1"}  # fmt: skip
    subprocess.run([str(BIN / "gb2_config"), "add", "down", "--diracx", proxy.url, "--rucio", f"{proxy.url}/rucio",
                    "--use"], env=env, check=True, capture_output=True)  # fmt: skip
    proc = subprocess.Popen([str(BIN / "gb2_proxy_init")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    while proxy.stats.requests < 2 and proc.poll() is None:
        time.sleep(0.05)
    assert_stops_at_ctrl_c(proc, "gb2_proxy_init")


@pytest.mark.parametrize("route", [r"^POST /rucio/dids/user", r"^POST /api/jobs/jdl$"], ids=["datasets", "batches"])
def test_ctrl_c_while_submitting_stops_at_once(server_factory, capsys, proxies, route):
    """gbasf2 creates the output datasets in a thread while it uploads the sandbox, and sends job
    batches from a pool: Ctrl-C while the server keeps refusing either must still end the
    command at once (retries in a worker thread must not keep the process alive)."""
    grid, proxy = faulty_grid(server_factory, capsys, Rule(route, 1.0, ("503",)))
    proxies.append(proxy)
    assert grid.run("gb2_proxy_init").code == 0
    env = {**os.environ, "GB2_PROFILE": "faulty", "GB2_RETRIES": "50", "GB2_RETRY_WAIT": "1"}
    steering = Path(__file__).resolve().parent.parent / "steering_examples" / "ntuple_analysis.py"
    proc = subprocess.Popen([str(BIN / "gbasf2"), str(steering), "-p", "ctrlc", "-s", RELEASE, "--force"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while not [e for e in proxy.stats.events if e.fault and re.search(route, e.route)] and proc.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    assert_stops_at_ctrl_c(proc, "gbasf2")


# -- the everyday loop -------------------------------------------------------------------------


def _assert_loop(report, *, first_try: bool) -> None:
    detail = report.details()
    assert report.all_ok, detail
    if first_try:
        assert report.first_try == report.commands, detail
    assert (report.duplicates, report.missing, report.corrupt, report.partial) == (0, 0, 0, 0), detail
    assert (report.missing_files, report.missing_logs) == (0, 0), detail
    assert report.files == 3 and sum(report.faults.values()) > 0, detail


def test_everyday_loop_at_10_percent_reduced(tmp_path):
    from tests.faults.loop import run_loop

    _assert_loop(run_loop(tmp_path, rate=0.1, seed=7, big=100, reruns=0), first_try=True)


def test_everyday_loop_at_30_percent_reduced(tmp_path):
    from tests.faults.loop import run_loop

    _assert_loop(run_loop(tmp_path, rate=0.3, seed=11, big=100, reruns=1), first_try=False)


@pytest.mark.slow
@pytest.mark.parametrize("rate", [0.1, 0.3])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_everyday_loop_full(tmp_path, rate, seed):
    from tests.faults.loop import run_loop

    _assert_loop(run_loop(tmp_path, rate=rate, seed=seed, big=300, reruns=0 if rate <= 0.1 else 1),
                 first_try=rate <= 0.1)
