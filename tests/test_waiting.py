"""gb2_diagnostic --waiting_job: why a job waits, on an embedded grid with a banned site, a site
with one slot, and sites of two platforms; and gb2_diagnostic -p (failure clusters)."""

from __future__ import annotations

import time

from tests.cli import FAST, RELEASE, SIGNAL, Grid, add_remote_profile


def status_of(grid: Grid, job: int) -> str:
    return grid.dx.search(["Status"], [{"parameter": "JobID", "operator": "eq", "value": job}]).rows[0]["Status"]


def submit_one(grid: Grid, steering, project: str, *extra: str) -> int:
    r = grid.run("gbasf2", str(steering), "-p", project, "-s", RELEASE, *extra, "--force", "--json")
    assert r.code == 0, r.err
    return r.json()["job_ids"][0]


def reasons(grid: Grid, job: int) -> dict[str, dict]:
    r = grid.run("gb2_diagnostic", "--waiting_job", str(job), "--json")
    assert r.code == 0, r.err
    return {x["reason"]: x for x in r.json()["reasons"]}


def test_why_jobs_wait(server_factory, capsys, tmp_path):
    srv = server_factory(run_engine=True, workers=3, site_slots={"LCG.KIT.de": 1},
                         banned_sites={"OSG.BNL.us": "Downtime"}, **FAST)  # fmt: skip
    add_remote_profile("test", srv)
    grid = Grid(srv, "test", capsys)
    grid.login("alice")
    quick = tmp_path / "quick.py"
    quick.write_text("import basf2\n")
    slow = tmp_path / "slow.py"
    slow.write_text("import time\nimport basf2\ntime.sleep(30)\n")

    old_platform = submit_one(grid, quick, "el7", "--platform", "EL7")
    at_banned = submit_one(grid, quick, "bnl", "--site", "OSG.BNL.us")
    running = submit_one(grid, slow, "kit1", "--site", "LCG.KIT.de")
    deadline = time.monotonic() + 30
    while status_of(grid, running) != "Running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    queued = submit_one(grid, quick, "kit2", "--site", "LCG.KIT.de")
    srv.settings.banned_sites["LCG.KEK.jp"] = "Power cut"
    signal = submit_one(grid, quick, "sig", "-i", SIGNAL)  # its input is at KEK only
    time.sleep(2)
    for job in (old_platform, at_banned, queued, signal):
        assert status_of(grid, job) == "Waiting"

    platform = reasons(grid, old_platform)["platform"]
    assert "no site offers the platform EL7" in platform["detail"] and "EL9 (LCG.KEK.jp)" in platform["detail"]
    assert platform["command"] == f"gb2_job_kill -j {old_platform}"
    banned = reasons(grid, at_banned)
    assert set(banned) == {"banned"} and "OSG.BNL.us (Downtime)" in banned["banned"]["detail"]
    full = reasons(grid, queued)
    assert "LCG.KIT.de: 1 running of 1 slots" in full["full"]["detail"]
    only_kek = reasons(grid, signal)
    assert "input-banned" in only_kek and "LCG.KEK.jp: banned (Power cut)" in only_kek["input-banned"]["detail"]
    assert "gb2_ds_rep" in only_kek["input-banned"]["advice"]

    text = grid.run("gb2_diagnostic", "--waiting_job", str(signal))
    assert text.code == 0 and "Sites that may run it: LCG.KEK.jp" in text.out
    assert "Why: its input's replicas are only at banned or unhealthy sites" in text.out
    srv.settings.banned_sites.pop("LCG.KEK.jp")
    grid.wait_project("sig")
    done = reasons(grid, signal)
    assert set(done) == {"not-waiting"} and "the job is Done" in done["not-waiting"]["detail"]
    assert grid.run("gb2_diagnostic", "--waiting_job", "987654").code == 5
    both = grid.run("gb2_diagnostic", "--waiting_job", str(signal), "--failed_job", str(signal))
    assert both.code == 2 and "give one of" in both.err


def test_diagnostic_project_failures(server_factory, capsys, tmp_path):
    srv = server_factory(run_engine=True, workers=2, **FAST)
    add_remote_profile("test", srv)
    grid = Grid(srv, "test", capsys)
    grid.login("alice")
    steering = tmp_path / "bad.py"
    steering.write_text("import basf2\nraise ValueError('cut 0.5 < M < 0.6 on list pi+:bad_17 is wrong')\n")
    r = grid.run("gbasf2", str(steering), "-p", "allbad", "-s", RELEASE, "--repetition", "3", "--force")
    assert r.code == 0, r.err
    grid.wait_project("allbad")
    text = grid.run("gb2_diagnostic", "-p", "allbad")
    assert text.code == 0, text.err
    assert "3 failed jobs of 3 in 1 cluster" in text.out
    assert "ValueError: cut <N> < M < <N> on list pi+:bad_<N> is wrong" in text.out
    assert "a deterministic error in the analysis (every job of the selection)" in text.out
    report = grid.run("gb2_diagnostic", "-p", "allbad", "--json").json()
    [cluster] = report["clusters"]
    assert cluster["cause"] == "analysis" and cluster["deterministic"] and cluster["exit_code"] == 1
    assert report["logs"] == {"cached": 3, "read": 0, "missing": 0, "unreadable": 0}  # read once, by the first call
    assert grid.run("gb2_diagnostic", "-p", "nosuch").code == 5


def test_a_failed_scout_cluster_is_deterministic_and_never_retried(server_factory, capsys, tmp_path):
    srv = server_factory(run_engine=True, workers=2, **FAST)
    add_remote_profile("test", srv)
    grid = Grid(srv, "test", capsys)
    grid.login("alice")
    steering = tmp_path / "bad.py"
    steering.write_text("import basf2\nraise RuntimeError('broken analysis')\n")
    r = grid.run("gbasf2", str(steering), "-p", "scouted", "-s", RELEASE, "--repetition", "6", "--force", "--json")
    assert r.code == 0, r.err
    scouts, held = r.json()["scout_ids"], r.json()["job_ids"]
    waited = grid.run("gb2_project_summary", "-p", "scouted", "--wait", "--interval", "0.3", "--timeout", "60",
                      "--auto_reschedule", "2", "--json")  # fmt: skip
    assert waited.code == 1
    retried = [d for d in waited.json()["auto_reschedule"]["decisions"] if d["action"] in ("rescheduled", "replaced")]
    assert retried == []
    clusters = {c["cause"]: c for c in grid.run("gb2_project_analysis", "-p", "scouted", "--failures", "--json").json()["clusters"]}
    assert set(clusters) == {"analysis", "scout failed"}
    never = clusters["scout failed"]
    assert never["count"] == len(held) and never["deterministic"] and never["lines"][0] == "Scout job <N> failed"
    assert int(never["command"].split()[-1]) in scouts and "never ran" in never["advice"]
