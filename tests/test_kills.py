"""kill -9 in the middle of things: gbasf2 mid-submission, gb2_ds_get mid-download, the server
with running jobs; then the user's next command completes, with nothing duplicated or orphaned."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gb2.client.diracx import DiracX
from gb2.client.rucio import RucioClient
from gb2.client.tokens import TokenStore
from gb2.data.checksum import adler32_file
from gb2.data.register import register_outputs
from tests.cli import FAST, RELEASE
from tests.faults.grid import behind_proxy
from tests.faults.proxy import FaultProxy, Rule
from tests.helpers import embedded_home

BIN = Path(sys.executable).parent


def tool(*argv: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / argv[0]), *argv[1:]], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kwargs)  # fmt: skip


def run(*argv: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / argv[0]), *argv[1:]], capture_output=True, text=True, timeout=timeout, **kwargs)


def wait_until(predicate, timeout: float = 60, step: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(step)


def logged_in_behind(server_factory, proxy: FaultProxy, **server):  # type: ignore[no-untyped-def]
    """A grid reached through ``proxy`` (profile "via"), alice logged in through it; and a clean client."""
    srv = behind_proxy(server_factory, proxy, "via", **{"run_engine": True, "workers": 2, **FAST, **server})
    assert run("gb2_proxy_init").returncode == 0
    return srv, DiracX(srv.url, TokenStore.for_profile("via"))


def test_kill_gbasf2_mid_submission_then_resume(server_factory, tmp_path):
    # every batch reaches the server, then its answer stalls: gbasf2 is killed while it waits
    proxy = FaultProxy(rules=(Rule(r"^POST /api/jobs/jdl$", 1.0, ("stall",)),), stall_seconds=60)
    try:
        # batches of 20 (as on DiracX 0.7), so that the kill comes between batches
        srv, dx = logged_in_behind(server_factory, proxy, run_engine=False, max_jobs_per_submission=20)
        steering = tmp_path / "quick.py"
        steering.write_text("import basf2\n")
        argv = ("gbasf2", str(steering), "-p", "killed", "-s", RELEASE, "--repetition", "200", "--force", "--noscout")
        proc = tool(*argv)
        wait_until(lambda: sum(e.route == "POST /api/jobs/jdl" for e in proxy.stats.events) >= 2)
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        group = [{"parameter": "JobGroup", "operator": "eq", "value": "killed"}]
        before = dx.search(["JobID"], group).total
        assert 0 < before < 200
        proxy.enabled = False
        again = run(*argv, "--resume")
        assert again.returncode == 0, again.stderr
        assert f"({before} jobs of the project were already submitted and were left alone)" in again.stdout
        rows = list(dx.iter_search(["JobID", "JobName"], group))
        names = [r["JobName"] for r in rows]
        assert len(names) == len(set(names)) == 200  # complete, no duplicates
    finally:
        proxy.stop()


def _big_dataset(server_factory, proxy: FaultProxy, tmp_path: Path) -> tuple[Path, Path]:
    """A 40 MiB file in alice's dataset bigdata, reached through ``proxy``: (the file, the
    download folder)."""
    srv, dx = logged_in_behind(server_factory, proxy, run_engine=False)
    rucio = RucioClient(f"{srv.url}/rucio", token=dx.access_token)
    big = tmp_path / "big.root"
    big.write_bytes(os.urandom(40 * 1024 * 1024))
    rse = next(r["rse"] for r in rucio.list_rses("type=TMP"))
    rucio.create_project("/belle/user/alice/bigdata", 1)
    register_outputs(rucio, rse, [(big, "/belle/user/alice/bigdata/sub00/big.root", None)],
                     token=dx.access_token())  # fmt: skip
    return big, tmp_path / "dl"


def _partial_size(dest: Path) -> int:
    return sum(p.stat().st_size for p in dest.rglob("*.gb2part*")) if dest.exists() else 0


def test_ctrl_c_mid_download_ends_at_once_and_keeps_the_partial_file(server_factory, tmp_path):
    """Ctrl-C does not wait for the files in flight (at 2 MB/s this one would take 20 s more)."""
    proxy = FaultProxy(bandwidth=2e6)
    try:
        big, dest = _big_dataset(server_factory, proxy, tmp_path)
        proc = tool("gb2_ds_get", "/belle/user/alice/bigdata", "-d", str(dest), "--force")
        wait_until(lambda: _partial_size(dest) >= 2 * 1024 * 1024)
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert time.monotonic() - started < 3
        assert 0 < _partial_size(dest) < big.stat().st_size  # kept for the next run to resume
        assert not (dest / "bigdata" / "sub00" / "big.root").exists()
    finally:
        proxy.stop()


def test_kill_ds_get_mid_download_then_rerun_resumes_with_a_range(server_factory, tmp_path):
    proxy = FaultProxy(bandwidth=8e6)
    try:
        big, dest = _big_dataset(server_factory, proxy, tmp_path)
        argv = ("gb2_ds_get", "/belle/user/alice/bigdata", "-d", str(dest), "--force")
        proc = tool(*argv)

        def partial_size() -> int:
            return _partial_size(dest)

        wait_until(lambda: partial_size() >= 10 * 1024 * 1024)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kept = partial_size()
        assert kept < big.stat().st_size
        assert not (dest / "bigdata" / "sub00" / "big.root").exists()  # nothing partial under the final name
        proxy.bandwidth = None
        first_get = len(proxy.stats.events)
        again = run(*argv, "--json")
        assert again.returncode == 0, again.stderr
        final = dest / "bigdata" / "sub00" / "big.root"
        assert adler32_file(final) == adler32_file(big)
        downloads = [e for e in proxy.stats.events[first_get:] if e.route.startswith("GET /se/")]
        assert len(downloads) == 1
        start = int(downloads[0].range.split("=")[1].rstrip("-"))
        assert start >= 10 * 1024 * 1024 and start <= kept
        transferred = downloads[0].body_bytes
        assert transferred == big.stat().st_size - start  # only the rest went over the wire
        print(f"\nresumed at byte {start}: {transferred} of {big.stat().st_size} bytes transferred again")
    finally:
        proxy.stop()


def _descendants_alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state != "Z":
            alive.append(pid)
    return alive


@pytest.fixture
def mock_server(tmp_path):
    """gb2_mock_server in the foreground (a subprocess), restartable on the same data dir and port."""
    procs: list[subprocess.Popen] = []

    def start(port: int = 0) -> tuple[subprocess.Popen, str]:
        proc = tool("gb2_mock_server", "--port", str(port), "--data-dir", str(tmp_path / "grid"), "--user", "alice",
                    "--workers", "2", "--stall-seconds", "2", "--heartbeat-seconds", "0.5")  # fmt: skip
        procs.append(proc)
        assert proc.stdout is not None
        return proc, proc.stdout.readline().strip()

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)


def test_kill_server_with_running_jobs_stalled_failed_reschedulable_no_orphans(mock_server, tmp_path):
    proc, url = mock_server()
    run("gb2_config", "add", "ci", "--diracx", url, "--rucio", f"{url}/rucio",
        "--login-secret-file", str(tmp_path / "grid" / "keys" / "login-secret"), "--use")  # fmt: skip
    assert run("gb2_proxy_init").returncode == 0
    pids = tmp_path / "pids"
    pids.mkdir()
    marker = tmp_path / "second-run"
    steering = tmp_path / "long.py"
    steering.write_text(
        "import os, subprocess, time, basf2\n"
        f"if os.path.exists({str(marker)!r}):\n    raise SystemExit(0)\n"
        "child = subprocess.Popen(['sleep', '300'])\n"  # a process of the payload's own
        f"open(os.path.join({str(pids)!r}, str(os.getpid())), 'w').close()\n"
        f"open(os.path.join({str(pids)!r}, str(child.pid)), 'w').close()\n"
        "time.sleep(300)\n"
    )  # fmt: skip
    sub = run("gbasf2", str(steering), "-p", "orphans", "-s", RELEASE, "--repetition", "2", "--force", "--json")
    assert sub.returncode == 0, sub.stderr
    wait_until(lambda: len(list(pids.iterdir())) >= 4, timeout=60)
    payload = [int(p.name) for p in pids.iterdir()]
    assert len(_descendants_alive(payload)) == 4
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    wait_until(lambda: not _descendants_alive(payload), timeout=10)  # ended with their server
    proc2, url2 = mock_server(int(url.rsplit(":", 1)[1]))
    assert url2 == url

    def statuses() -> list[str]:
        r = run("gb2_job_status", "-p", "orphans", "--json")
        return [j["status"] for j in json.loads(r.stdout)["jobs"]]

    wait_until(lambda: statuses() == ["Failed", "Failed"], timeout=60, step=0.5)
    history = run("gb2_diagnostic", "--failed_job", str(json.loads(sub.stdout)["job_ids"][0]), "--json")
    assert history.returncode in (0, 1), history.stderr
    marker.touch()
    again = run("gb2_job_reschedule", "-p", "orphans", "--force")
    assert again.returncode == 0, again.stderr
    wait_until(lambda: statuses() == ["Done", "Done"], timeout=60, step=0.5)


def test_embedded_server_killed_mid_command_is_restarted_and_the_command_carries_on(tmp_path):
    env = embedded_home(tmp_path, idle_timeout=60)
    try:
        assert run("gb2_proxy_init", env=env).returncode == 0
        info_file = tmp_path / "data" / "server" / "server.json"
        first = json.loads(info_file.read_text())
        steering = tmp_path / "slow.py"
        steering.write_text("import time\ntime.sleep(4)\n")
        assert run("gbasf2", str(steering), "-p", "revive", "-s", RELEASE, "--force", env=env).returncode == 0
        waiting = tool("gb2_project_summary", "-p", "revive", "--wait", "--interval", "0.3", "--timeout", "8", "--json",
                       env=env)  # fmt: skip
        time.sleep(1.5)
        os.kill(first["pid"], signal.SIGKILL)
        out, err = waiting.communicate(timeout=60)
        second = json.loads(info_file.read_text())
        assert second["pid"] != first["pid"] and second["url"] == first["url"]  # restarted, same port
        assert waiting.returncode in (0, 1), err  # not 6: the command carried on with the new server
        assert "cannot reach" not in err
        project = json.loads(out)["projects"][0]
        assert project["project"] == "revive" and project["jobs"] == 1
    finally:
        run("gb2_config", "server", "stop", env=env)
