"""Scout jobs, the scout report and forecast, and -n auto, driven through the CLI on the embedded grid.

The embedded server holds the primaries itself (Scouting, released or failed by the
engine's scout agent); a server started with ``scouting=False`` behaves like a stock
DiracX 0.7, so gb2 holds the primaries and the next command that looks releases them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli import COLLECTION, EXAMPLES, FAST, RELEASE, UUBAR, Grid, add_remote_profile

BIN = Path(sys.executable).parent


def steering(tmp_path: Path, *, sleep: float = 0.0, burn: float = 0.0, fail: bool = False) -> str:
    """The ntuple analysis with a Python module that sleeps or burns CPU per event (or a broken one)."""
    path = tmp_path / ("broken.py" if fail else "slow.py")
    path.write_text(
        "import time\n"
        "import basf2 as b2\n"
        "import modularAnalysis as ma\n"
        + ("raise RuntimeError('broken analysis')\n" if fail else "")
        + "class Slow(b2.Module):\n"
        "    def event(self):\n"
        f"        time.sleep({sleep})\n"
        f"        end = time.process_time() + {burn}\n"
        "        while time.process_time() < end:\n"
        "            pass\n"
        "main = b2.create_path()\n"
        "ma.inputMdstList(filelist=['mdst.root'], path=main)\n"
        "main.add_module(Slow())\n"
        "ma.fillParticleList('pi+:all', 'p > 0.1', path=main)\n"
        "ma.variablesToNtuple('pi+:all', ['p', 'E'], filename='pions.root', path=main)\n"
        "b2.process(main)\n"
    )
    return str(path)


def gbasf2(grid: Grid, steering_file: str, project: str, *extra: str):  # type: ignore[no-untyped-def]
    r = grid.run("gbasf2", steering_file, "-p", project, "-s", RELEASE, *extra, "--force", "--json")
    assert r.code == 0, r.err
    return r.json()


def history(grid: Grid, job_ids: list[int]) -> dict[int, dict]:
    rows = grid.dx.iter_search(["JobID", "Status", "StartExecTime", "EndExecTime", "LoggingInfo"],
                               [{"parameter": "JobID", "operator": "in", "values": job_ids}])  # fmt: skip
    return {r["JobID"]: r for r in rows}


def project_jobs(grid: Grid, project: str) -> list[dict]:
    return list(grid.dx.iter_search(["JobID", "JobName", "Status", "MinorStatus"],
                                    [{"parameter": "JobGroup", "operator": "eq", "value": project}]))  # fmt: skip


@pytest.fixture
def stock_grid(server_factory, capsys) -> Grid:
    """A grid whose DiracX has no scouting (like DiracX 0.7): gb2 holds the primaries itself,
    and sends 20 jobs a call (as to DiracX 0.7, which publishes no limit), so that a release
    of hundreds of jobs takes several calls."""
    srv = server_factory(run_engine=True, workers=2, scouting=False, max_jobs_per_submission=20, **FAST)
    add_remote_profile("test", srv)
    g = Grid(srv, "test", capsys)
    g.login("alice")
    return g


def test_good_project_scouts_pass_then_the_jobs_run_with_report_and_forecast(grid, tmp_path, monkeypatch):
    sub = gbasf2(grid, steering(tmp_path, sleep=0.01), "scouted", "-i", COLLECTION)
    scouts, primaries = sub["scout_ids"], sub["job_ids"]
    assert len(scouts) == 2 and len(primaries) == 6 and sub["scouting"]["mode"] == "server"
    # While the scouts run, the primaries wait in Scouting (the server's optimiser put them there).
    deadline = time.monotonic() + 30
    while True:
        status = grid.run("gb2_job_status", "-p", "scouted", "--json").json()
        if status["summary"]["Scouting"] == 6 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status["summary"]["Scouting"] == 6, status["summary"]
    assert {j["minor_status"] for j in status["jobs"] if j["job_id"] in primaries} == {"Waiting for Scout Job Completion"}
    assert status["scouting"]["scouted"]["state"] == "scouting"
    table = grid.run("gb2_job_status", "-p", "scouted").out
    rows = [line.split() for line in table.splitlines() if "Waiting for Scout Job Completion" in line]
    assert sorted(int(r[0]) for r in rows) == sorted(primaries) and {r[1] for r in rows} == {"Scouting"}
    assert "6 job(s) wait in status Scouting until the scouts pass" in table
    grid.wait_project("scouted")

    jobs = history(grid, scouts + primaries)
    scouts_end = max(jobs[s]["EndExecTime"] for s in scouts)
    for job in primaries:  # every primary waited in Scouting and started only after both scouts ended
        assert "Scouting" in [h["Status"] for h in jobs[job]["LoggingInfo"]]
        assert jobs[job]["Status"] == "Done" and jobs[job]["StartExecTime"] > scouts_end
    status = grid.run("gb2_job_status", "-p", "scouted", "--json").json()
    view = status["scouting"]["scouted"]
    assert view["state"] == "released" and view["mode"] == "server"
    report, forecast = view["report"], view["forecast"]
    assert [s["events"] for s in report["scouts"]] == [50, 100]
    assert report["events_per_second"] > 0 and report["cpu_seconds_per_event"] > 0
    assert report["peak_memory_mb"] > 0 and report["output_bytes_per_event"] > 0
    assert forecast["jobs"] == 6 and forecast["cpu_hours"] > 0 and forecast["output_bytes"] > 0
    assert forecast["events_per_job_max"] == 400 and forecast["cpu_ok"] and forecast["quota_ok"]
    assert set(forecast["quota_remaining"]) <= {"KEK-TMP-DISK-SE", "DESY-TMP-SE"}
    assert status["summary"] == {"Completed": 0, "Deleted": 0, "Done": 8, "Failed": 0, "Killed": 0, "Running": 0,
                                 "Scouting": 0, "Stalled": 0, "Waiting": 0}  # fmt: skip
    text = grid.run("gb2_project_summary", "-p", "scouted").out
    assert "Scout report (2 scout(s), 150 events):" in text and "Forecast for 6 job(s):" in text
    assert "events per second" in text and "left of your quota at" in text

    # The scouts' outputs never reach the project's dataset, and gb2_ds_get fetches only the primaries'.
    files = grid.run("gb2_ds_query_file", "scouted", "-m", "lfn,jobId", "--json").json()["files"]
    assert sorted(f["jobId"] for f in files) == sorted(primaries)
    monkeypatch.chdir(tmp_path)
    got = grid.run("gb2_ds_get", "scouted", "--force", "--json")
    assert got.code == 0 and len(got.json()["downloaded"]) == 6
    assert not any(f"job{s}_" in name for s in scouts for name in got.json()["downloaded"])


def test_broken_steering_scouts_fail_and_no_job_runs(grid, tmp_path):
    sub = gbasf2(grid, steering(tmp_path, fail=True), "broken", "-i", COLLECTION, "--scouts", "3")
    scouts, primaries = sub["scout_ids"], sub["job_ids"]
    assert len(scouts) == 3
    grid.wait_project("broken")
    jobs = history(grid, scouts + primaries)
    assert {jobs[s]["Status"] for s in scouts} == {"Failed"}
    for job in primaries:  # never started: no Running in their history, no start time
        assert jobs[job]["Status"] == "Failed" and jobs[job]["StartExecTime"] is None
        assert "Running" not in [h["Status"] for h in jobs[job]["LoggingInfo"]]
    minors = {j["MinorStatus"] for j in project_jobs(grid, "broken") if j["JobID"] in primaries}
    assert len(minors) == 1 and minors.pop().startswith("Scout job ")

    status = grid.run("gb2_job_status", "-p", "broken")
    assert "Failed:9" in status.out
    failed = status.out.split("--- Scout jobs of broken ---")[1]
    assert "Application Finished With Errors" in failed and "broken analysis" in failed
    assert "the other jobs never run" in failed and "gb2_diagnostic --failed_job" in failed
    summary = grid.run("gb2_project_summary", "-p", "broken")
    assert next(line for line in summary.out.splitlines() if line.startswith("broken ")).split()[2] == "Failed"
    assert "broken analysis" in summary.out
    why = grid.run("gb2_diagnostic", "--failed_job", str(primaries[0]), "--json").json()
    assert why["cause"] == "scout failed"
    assert why["log_file"].endswith("of scout job " + why["job"]["MinorStatus"].split()[2])
    assert any("broken analysis" in line for line in why["log_tail"])
    tree = grid.run("gb2_project_analysis", "-p", "broken", "--json").json()
    failed_branch = next(c for c in tree["children"] if c["status"] == "Failed")
    assert any(m["minor_status"].startswith("Scout job ") and m["count"] == 6 for m in failed_branch["children"])
    from tests.webview import logged_in, web_view  # the web view shows the same scouts

    with web_view("test") as view, logged_in(view) as client:
        page = client.get("/p/broken").text
        assert "Scouts: failed" in page and "the other jobs never run" in page and "broken analysis" in page
        assert f"gb2_diagnostic --failed_job {scouts[0]}" in page


def test_noscout_and_small_projects_run_no_scouts(grid):
    sub = gbasf2(grid, str(EXAMPLES / "ntuple_analysis.py"), "plain", "-i", COLLECTION, "--noscout")
    assert sub["scout_ids"] == [] and len(sub["job_ids"]) == 6 and sub["scouting"] is None
    small = gbasf2(grid, str(EXAMPLES / "ntuple_analysis.py"), "small", "-i", UUBAR)
    assert small["scout_ids"] == [] and any("no scout jobs" in n for n in small["notes"])
    grid.wait_project("plain")
    names = {j["JobName"] for j in project_jobs(grid, "plain")}
    assert not any("_scout" in n for n in names)
    status = grid.run("gb2_job_status", "-p", "plain", "--json").json()
    assert status["scouting"] == {} and status["summary"]["Done"] == 6
    assert "Scout jobs" not in grid.run("gb2_job_status", "-p", "plain").out


def test_scout_local_shows_report_and_forecast_before_submitting(grid, tmp_path):
    dry = grid.run("gbasf2", steering(tmp_path), "-p", "local", "-s", RELEASE, "-i", COLLECTION, "--scout_local",
                   "--scout_events", "60", "--dryrun")  # fmt: skip
    assert dry.code == 0, dry.err
    assert dry.out.index("Scout report (1 scout(s), 60 events):") < dry.out.index("Project summary")
    assert "Forecast for 6 job(s):" in dry.out and "left of your quota at" in dry.out
    assert "Dry run: nothing was submitted." in dry.out
    assert project_jobs(grid, "local") == []
    # Asking: on a terminal gbasf2 asks Y/N after the forecast; without one it refuses (scripts pass --force).
    asked = subprocess.run([str(BIN / "gbasf2"), steering(tmp_path), "-p", "local", "-s", RELEASE, "-i", COLLECTION,
                            "--scout_local", "--noscout"], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                           env={**os.environ, "GB2_PROFILE": "test"}, timeout=120)  # fmt: skip
    assert asked.returncode == 2 and "pass --force to submit" in asked.stderr
    assert "Forecast for 6 job(s):" in asked.stdout and project_jobs(grid, "local") == []
    done = gbasf2(grid, steering(tmp_path), "local", "-i", COLLECTION, "--scout_local", "--noscout")
    assert done["local_scout"]["report"]["scouts"][0]["events"] == 100 and len(done["job_ids"]) == 6

    broken = grid.run("gbasf2", steering(tmp_path, fail=True), "-p", "local2", "-s", RELEASE, "-i", COLLECTION,
                      "--scout_local", "--force")  # fmt: skip
    assert broken.code == 1 and "the local scout failed: " in broken.err and "broken analysis" in broken.err
    assert project_jobs(grid, "local2") == []


def test_n_auto_sizes_the_jobs_from_the_scouts(stock_grid, tmp_path):
    grid = stock_grid
    slow = steering(tmp_path, sleep=0.02)  # 20 ms per event: files of 300 events on average take about 6 s
    plan = grid.run("gbasf2", slow, "-p", "autolocal", "-s", RELEASE, "-i", COLLECTION, "-n", "auto",
                    "--job_hours", "0.005", "--scout_local", "--dryrun", "--json")  # fmt: skip
    assert plan.code == 0, plan.err
    chosen = plan.json()["local_scout"]["sizing"]["files_per_job"]
    assert 2 <= chosen <= 3 and plan.json()["files_per_job"] == chosen
    assert any(f"-n auto chose {chosen} file(s) per job" in note for note in plan.json()["notes"])

    sub = gbasf2(grid, slow, "auto", "-i", COLLECTION, "-n", "auto", "--job_hours", "0.005")
    assert len(sub["scout_ids"]) == 2 and sub["job_ids"] == [] and sub["held"] == -1
    assert [j["JobName"] for j in project_jobs(grid, "auto")] == ["auto_scout00", "auto_scout01"]
    grid.wait_project("auto")
    status = grid.run("gb2_job_status", "-p", "auto", "--json").json()
    view = status["scouting"]["auto"]
    n = view["sizing"]["files_per_job"]
    assert 2 <= n <= 3 and "events/s" in view["sizing"]["reason"] and view["released_now"] > 0
    primaries = [j for j in project_jobs(grid, "auto") if "scout" not in j["JobName"]]
    assert len(primaries) == view["released_now"] == view["forecast"]["jobs"] == -(-6 // n)
    text = grid.run("gb2_job_status", "-p", "auto").out
    assert f"-n auto             {n} file(s) per job: the scouts ran" in text
    assert grid.run("gbasf2", slow, "-p", "auto2", "-s", RELEASE, "-i", COLLECTION, "-n", "auto", "--noscout",
                    "--force").code == 2  # fmt: skip


def test_forecast_warns_about_quota_and_cpu_time(server_factory, capsys, tmp_path):
    srv = server_factory(run_engine=True, workers=2, user_quota_bytes=2000, **FAST)
    add_remote_profile("test", srv)
    grid = Grid(srv, "test", capsys)
    grid.login("alice")
    # 30 ms of CPU per event; one job of all six files (1800 events, about 54 s) against --cputime 1.
    sub = gbasf2(grid, steering(tmp_path, burn=0.03), "heavy", "-i", COLLECTION, "-n", "6", "--cputime", "1",
                 "--scouts", "2", "--scout_events", "40")  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        status = grid.run("gb2_job_status", "-p", "heavy", "--json").json()
        if status["scouting"]["heavy"]["state"] != "scouting" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    grid.run("gb2_job_kill", "-p", "heavy", "--force")  # the forecast is what this test is about
    forecast = status["scouting"]["heavy"]["forecast"]
    assert forecast["quota_ok"] is False and forecast["cpu_ok"] is False
    assert forecast["job_cpu_seconds_longest"] > 0.8 * 60
    assert 1 <= forecast["suggested_files_per_job"] <= 5
    text = grid.run("gb2_job_status", "-p", "heavy").out
    assert "Warning: the outputs (about" in text and "would not fit in the" in text
    assert f"use -n {forecast['suggested_files_per_job']} (or a larger --cputime)" in text
    assert len(sub["job_ids"]) == 1


def test_held_jobs_are_released_once_by_any_machine(stock_grid, tmp_path, tmp_path_factory, monkeypatch):
    """On a DiracX without scouting: only the scouts exist until they pass; another machine's
    gb2_job_status releases the primaries, and a second look (from either machine) adds nothing."""
    grid = stock_grid
    sub = gbasf2(grid, steering(tmp_path, sleep=0.01), "held", "-i", COLLECTION)
    assert sub["scouting"]["mode"] == "held" and sub["held"] == 6 and sub["job_ids"] == []
    status = grid.run("gb2_job_status", "-p", "held", "--json").json()
    assert status["selected"] == 2 and status["summary"]["Scouting"] == 6
    assert "6 job(s) are held by gb2 until the scouts pass" in grid.run("gb2_job_status", "-p", "held").out
    tree = grid.run("gb2_project_analysis", "-p", "held", "--json").json()
    assert {c["status"]: c["count"] for c in tree["children"]}.get("Scouting") == 6
    grid.wait_project("held")
    assert len(project_jobs(grid, "held")) == 2  # the scouts passed; nothing is released until someone looks

    other = tmp_path_factory.mktemp("laptop2")  # another machine: its own config, tokens, nothing shared
    for var, sub_dir in (("GB2_CONFIG_DIR", "config"), ("GB2_CACHE_DIR", "cache"), ("GB2_DATA_DIR", "data")):
        monkeypatch.setenv(var, str(other / sub_dir))
    add_remote_profile("test", grid.server)
    grid.login("alice")
    summary = grid.run("gb2_project_summary", "-p", "held", "--json").json()["projects"][0]
    assert summary["scouts"]["released_now"] == 6 and summary["jobs"] == 8
    again = grid.run("gb2_job_status", "-p", "held", "--json").json()
    assert again["scouting"]["held"]["released_now"] == 0 and again["selected"] == 8
    names = [j["JobName"] for j in project_jobs(grid, "held")]
    assert len(names) == len(set(names)) == 8
    assert grid.run("gb2_job_status", "-p", "held", "--wait", "--interval", "0.3").code == 0


def test_workflow_tools_see_held_jobs_released_once_their_scouts_pass(stock_grid, tmp_path, monkeypatch):
    """b2luigi lists a project's jobs through gb2's BelleDIRAC API: once the scouts are Done,
    that listing releases the held jobs first, so the project never looks finished with only
    its scouts in it."""
    import gb2.gbasf2_env.api as api

    grid = stock_grid
    sub = gbasf2(grid, steering(tmp_path, sleep=0.01), "wfheld", "-i", COLLECTION)
    assert sub["job_ids"] == [] and len(sub["scout_ids"]) == 2
    grid.wait_project("wfheld")  # only the two scouts exist, and they are Done
    monkeypatch.setattr(api, "_session", None)
    jobs = api.project_jobs(["wfheld"])["Value"]["wfheld"]
    assert len(jobs) == 8 and {j["JobID"] for j in jobs} >= set(sub["scout_ids"])
    assert grid.run("gb2_job_status", "-p", "wfheld", "--wait", "--interval", "0.3").code == 0


def test_held_scouts_fail_nothing_is_ever_submitted(stock_grid, tmp_path):
    grid = stock_grid
    sub = gbasf2(grid, steering(tmp_path, fail=True), "heldbad", "-i", COLLECTION)
    assert grid.run("gb2_job_status", "-p", "heldbad", "--wait", "--interval", "0.3").code == 1
    assert len(project_jobs(grid, "heldbad")) == 2
    status = grid.run("gb2_job_status", "-p", "heldbad", "--json").json()
    view = status["scouting"]["heldbad"]
    assert view["state"] == "failed" and view["failed_scout"]["job_id"] in sub["scout_ids"]
    assert status["summary"]["Failed"] == 8  # the two scouts and the six jobs that will never be submitted
    text = grid.run("gb2_job_status", "-p", "heldbad").out
    assert "6 job(s) held by gb2 were never submitted" in text and "broken analysis" in text
    summary = grid.run("gb2_project_summary", "-p", "heldbad", "--json").json()["projects"][0]
    assert summary["status"] == "Failed" and summary["failed"] == 8
    tree = grid.run("gb2_project_analysis", "-p", "heldbad").out
    assert "Held by gb2: never submitted" in tree


def test_a_release_cut_short_is_finished_by_the_next_command(stock_grid):
    """gb2_job_status killed in the middle of a release (the laptop closed): the next look
    submits exactly the missing jobs; no job is lost or doubled."""
    grid = stock_grid
    gbasf2(grid, str(EXAMPLES / "mc_generation.py"), "big", "--repetition", "400", "--basf2opt", "-n 5")
    grid.wait_project("big")
    env = {**os.environ, "GB2_PROFILE": "test"}
    proc = subprocess.Popen([str(BIN / "gb2_job_status"), "-p", "big"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    count = 2
    while time.monotonic() < deadline and count < 60:
        count = grid.dx.search(["JobID"], [{"parameter": "JobGroup", "operator": "eq", "value": "big"}], per_page=1).total
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    time.sleep(0.5)  # requests that were on their way when the client died
    cut = grid.dx.search(["JobID"], [{"parameter": "JobGroup", "operator": "eq", "value": "big"}], per_page=1).total
    assert 2 < cut < 402, cut  # killed half-way through the release
    view = grid.run("gb2_job_status", "-p", "big", "--json").json()["scouting"]["big"]
    assert view["released_now"] == 402 - cut
    names = [j["JobName"] for j in project_jobs(grid, "big") if j["Status"] not in ("Killed", "Deleted")]
    assert len(names) == len(set(names)) == 402


def test_held_project_with_its_output_elsewhere_is_found_through_its_scouts(stock_grid, tmp_path):
    """--output_ds puts the scouting record on another container: the scouts' reports name it."""
    grid = stock_grid
    gbasf2(grid, steering(tmp_path), "moved", "-i", COLLECTION, "--output_ds", "/belle/user/alice/elsewhere/moved2")
    early = grid.run("gb2_job_status", "-p", "moved", "--json").json()["scouting"]["moved"]
    assert early["state"] == "scouting" and early["held"] is None and "another --output_ds" in early["notes"][0]
    grid.wait_project("moved")
    view = grid.run("gb2_job_status", "-p", "moved", "--json").json()["scouting"]["moved"]
    assert view["state"] == "released" and view["released_now"] == 6
    grid.wait_project("moved")
    files = grid.run("gb2_ds_query_file", "/belle/user/alice/elsewhere/moved2", "-m", "lfn", "--json").json()["files"]
    assert len(files) == 6
