"""The default profile's server: started on demand, alive while jobs run, gone when idle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import embedded_home

BIN = Path(sys.executable).parent


def run(env: dict, *argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / argv[0]), *argv[1:]], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_started_on_demand_kept_while_busy_stopped_when_idle(tmp_path):
    env = embedded_home(tmp_path, idle_timeout=2)
    assert run(env, "gb2_config", "server", "status").returncode == 6  # nothing runs yet
    assert run(env, "gb2_proxy_init").returncode == 0  # starts it
    steering = tmp_path / "slow.py"
    steering.write_text("import time\ntime.sleep(6)\nprint('done')\n")
    submitted = run(env, "gbasf2", str(steering), "-p", "slow", "-s", "light-2511-gacrux", "--force")
    assert submitted.returncode == 0, submitted.stderr
    # (read while the job keeps it busy: on a loaded machine the 2 s idle timeout may pass between commands)
    info = json.loads((tmp_path / "data" / "server" / "server.json").read_text())
    # gbasf2 has returned; the job keeps running and the server stays up past its idle timeout
    time.sleep(4)
    assert run(env, "gb2_config", "server", "status").returncode == 0
    waited = run(env, "gb2_job_status", "-p", "slow", "--wait", "--interval", "0.5")
    assert waited.returncode == 0, waited.stdout + waited.stderr
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and run(env, "gb2_config", "server", "status").returncode == 0:
        time.sleep(0.5)
    assert run(env, "gb2_config", "server", "status").returncode == 6, "the idle server did not stop"
    deadline = time.monotonic() + 15  # it finishes shutting down (engine, database) and exits
    while time.monotonic() < deadline:
        try:
            os.kill(info["pid"], 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the server process is still alive")
    # the next command starts it again, with the project still there
    again = run(env, "gb2_job_status", "-p", "slow", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["jobs"][0]["status"] == "Done"
    run(env, "gb2_config", "server", "stop")


def test_a_server_whose_data_folder_is_removed_stops(tmp_path):
    """An embedded server whose data folder is deleted (a cleaned-up home or test folder) stops
    at its next idle check instead of running on for good with nothing to keep its state in."""
    import shutil

    env = embedded_home(tmp_path, idle_timeout=600)
    assert run(env, "gb2_proxy_init").returncode == 0  # starts it
    pid = json.loads((tmp_path / "data" / "server" / "server.json").read_text())["pid"]
    shutil.rmtree(tmp_path / "data")
    deadline = time.monotonic() + 30  # the check runs every 5 s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(pid, 9)
    raise AssertionError("the server whose data folder was removed is still running")
