"""--wait --auto_reschedule N: failures retried as their cluster suggests, deterministic ones never,
at most N times per job; the two stop rules; --notify to a real local webhook and notify-send."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.cli import RELEASE
from tests.failures.conftest import AT_DESY, CPU_OVERRUN, LOST, STEERING_ERRORS


def test_automatic_retries_with_overrides_and_limits(mixed, capsys):
    grid = mixed.grid(capsys)
    r = grid.run("gbasf2", str(mixed.steering), "-p", "auto", "-s", RELEASE, "-i", AT_DESY, "--repetition", "4",
                 "--cputime", "1", "--noscout", "--force", "--json")  # fmt: skip
    assert r.code == 0, r.err
    names = {row["JobID"]: row["JobName"] for row in grid.dx.iter_search(
        ["JobID", "JobName"], [{"parameter": "JobGroup", "operator": "eq", "value": "auto"}])}  # fmt: skip
    index = {int(name.split("_")[1]): job for job, name in names.items()}
    waited = grid.run("gb2_project_summary", "-p", "auto", "--wait", "--interval", "0.3", "--timeout", "120",
                      "--auto_reschedule", "1", "--json")  # fmt: skip
    assert waited.code == 1 and "not every job is Done" in waited.err
    auto = waited.json()["auto_reschedule"]
    assert auto["limit"] == 1 and auto["stopped"] is None
    by_job: dict[int, list[dict]] = {}
    for d in auto["decisions"]:
        by_job.setdefault(d["job_id"], []).append(d)
    lost = index[LOST[0]]
    assert [d["action"] for d in by_job[lost]] == ["rescheduled"], [d["reason"] for d in by_job[lost]]
    for i in STEERING_ERRORS:
        [d] = by_job[index[i]]
        assert d["action"] == "not retried" and d["reason"].startswith("deterministic (analysis)")
    [replaced] = by_job[index[CPU_OVERRUN[0]]]
    assert replaced["action"] == "replaced" and replaced["reason"] == "CPU time: with --cputime 2"
    [again] = by_job[replaced["new_job_id"]]  # the replacement overran its 2 min too: not retried a second time
    assert again["action"] == "not retried" and "retried 1 time(s) already (--auto_reschedule 1)" in again["reason"]
    project = waited.json()["projects"][0]
    assert project["done"] == 12 - len(STEERING_ERRORS) - len(CPU_OVERRUN)
    assert project["failed"] == len(STEERING_ERRORS) + len(CPU_OVERRUN)


def failing_steering(folder: Path, kinds: int) -> Path:
    path = folder / f"fails{kinds}.py"
    path.write_text("import json, os, re\nimport basf2\n"
                    "name = json.load(open(os.environ['GB2_JOB_INFO']))['JobName']\n"
                    "index = int(re.search(r'_(\\d{5})(?:_r\\d+)?$', name).group(1))\n"
                    "words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta']\n"
                    f"raise RuntimeError('broken ' + words[index % {kinds}])\n")  # fmt: skip
    return path


class Receiver:
    """A real HTTP server on 127.0.0.1 that records the JSON bodies posted to it."""

    def __init__(self) -> None:
        bodies = self.bodies = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/gb2"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_a_systematic_failure_stops_retrying_and_notifies(mixed, capsys, tmp_path, monkeypatch):
    grid = mixed.grid(capsys)
    receiver = Receiver()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "notify-send.calls"
    (bin_dir / "notify-send").write_text(f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> {calls}\n")
    (bin_dir / "notify-send").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    try:
        assert grid.run("gb2_config", "notify", "--webhook", receiver.url, "--failure-rate", "0.5").code == 0
        r = grid.run("gbasf2", str(failing_steering(tmp_path, 1)), "-p", "same", "-s", RELEASE, "--repetition", "4",
                     "--site", "LCG.KIT.de", "--noscout", "--force")  # fmt: skip
        assert r.code == 0, r.err
        waited = grid.run("gb2_job_status", "-p", "same", "--wait", "--interval", "0.3", "--timeout", "60",
                          "--auto_reschedule", "3", "--notify", "--json")  # fmt: skip
        assert waited.code == 1
        auto = waited.json()["auto_reschedule"]
        assert "failed with one signature, cluster analysis-" in auto["stopped"]
        assert "a quarter or more" in auto["stopped"] and auto["decisions"][-1]["action"] == "stopped"
        assert all(d["action"] != "rescheduled" for d in auto["decisions"])
        assert "automatic retries stopped" in waited.err
        events = [b["event"] for b in receiver.bodies]
        assert events == ["failure_rate", "ended"], receiver.bodies
        assert receiver.bodies[0]["text"].startswith("gb2: project same: ") and receiver.bodies[1]["counts"] == {"Failed": 4}
        assert [n["event"] for n in waited.json()["notifications"]] == ["failure_rate", "ended"]
        assert all(n["desktop"] is True and n["webhook"] == 204 for n in waited.json()["notifications"])
        assert calls.read_text().count("--app-name=gb2 gb2 project same") == 2

        r = grid.run("gbasf2", str(failing_steering(tmp_path, 6)), "-p", "many", "-s", RELEASE, "--repetition", "24",
                     "--site", "LCG.KIT.de", "--noscout", "--force")  # fmt: skip
        assert r.code == 0, r.err
        waited = grid.run("gb2_project_summary", "-p", "many", "--wait", "--interval", "0.3", "--timeout", "90",
                          "--auto_reschedule", "2")  # fmt: skip
        assert waited.code == 1 and "Failed" in waited.out
        lines = waited.err.splitlines()
        decided = [line for line in lines if "] auto-reschedule: job " in line]
        assert decided and all("not retried: deterministic (analysis)" in line for line in decided)
        assert len({line.split("(")[1].split(")")[0] for line in decided}) == 6  # six clusters
        [stop] = [line for line in lines if "] auto-reschedule stopped: nothing has succeeded after 2" in line]
        assert lines[-1].startswith("gb2_project_summary: error: not every job is Done (Failed:24); automatic "
                                    "retries stopped: nothing has succeeded after 2")  # fmt: skip
    finally:
        receiver.stop()
    refused = grid.run("gb2_job_status", "-p", "many", "--auto_reschedule", "1")
    assert refused.code == 2 and "--auto_reschedule goes with --wait" in refused.err
