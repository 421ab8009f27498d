"""gb2_job_status and gb2_project_summary: gbasf2's printouts, selections, --json, --wait."""

from __future__ import annotations

import re

from tests.cli import EXAMPLES, UUBAR, failing_steering, finished_good_and_bad, submit

NTUPLE = str(EXAMPLES / "ntuple_analysis.py")
SUMMARY_KEYS = ["Completed", "Deleted", "Done", "Failed", "Killed", "Running", "Scouting", "Stalled", "Waiting"]






def test_job_status_printout_and_summary_line(grid, tmp_path):
    ok, bad = finished_good_and_bad(grid, tmp_path, "mon", "monbad")
    r = grid.run("gb2_job_status", "-p", "mon", "monbad")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == "4 jobs are selected."
    assert lines[1].split() == ["Job", "id", "Status", "MinorStatus", "ApplicationStatus", "Site"]
    assert set(lines[2]) == {"="}
    rows = {int(line.split()[0]): line for line in lines[3:7]}
    assert set(rows) == set(ok + bad)
    assert "Done   Execution Complete" in rows[ok[0]] or re.search(r"Done\s+Execution Complete\s+Done", rows[ok[0]])
    assert re.search(r"Failed\s+Application Finished With Errors\s+basf2 failed \(exit status 1\)", rows[bad[0]])
    assert lines[7] == "--- Summary of Selected Jobs ---"
    assert lines[8] == "Completed:0 Deleted:0 Done:3 Failed:1 Killed:0 Running:0 Scouting:0 Stalled:0 Waiting:0"
    assert [kv.split(":")[0] for kv in lines[8].split()] == SUMMARY_KEYS


def test_job_status_selections_and_json(grid, tmp_path):
    ok, bad = finished_good_and_bad(grid, tmp_path, "sel", "selbad")
    by_ids = grid.run("gb2_job_status", "-j", f"{ok[0]},{bad[0]}", "--json").json()
    assert by_ids["selected"] == 2 and {j["job_id"] for j in by_ids["jobs"]} == {ok[0], bad[0]}
    assert set(by_ids["jobs"][0]) == {"job_id", "status", "minor_status", "application_status", "site", "project",
                                      "job_name", "owner", "submission_time", "last_update", "reschedule_count"}  # fmt: skip
    assert list(by_ids["summary"]) == SUMMARY_KEYS
    failed = grid.run("gb2_job_status", "--status", "failed", "--json").json()
    assert [j["job_id"] for j in failed["jobs"]] == bad
    spaced = grid.run("gb2_job_status", "-j", str(ok[0]), str(ok[1]), "--json").json()
    assert spaced["selected"] == 2
    none = grid.run("gb2_job_status", "-p", "no_such_project")  # a named project that does not exist: 5
    assert (none.code, none.out) == (5, "") and none.err.count("\n") == 1 and "no project no_such_project" in none.err
    filtered = grid.run("gb2_job_status", "-p", "sel", "--status", "Killed")  # a filter that matches nothing: 0
    assert filtered.code == 0 and filtered.out.splitlines()[0] == "0 jobs are selected."
    # another user sees their own jobs only by default, and alice's with --user
    grid.login("bob")
    assert grid.run("gb2_job_status", "--json").json()["selected"] == 0
    assert grid.run("gb2_job_status", "--user", "alice", "-p", "sel", "--json").json()["selected"] == 3


def test_job_status_bad_input(grid):
    for args, message in ((["-j", "12x"], "not a number"), (["--status", "Sleeping"], "unknown status"),
                          (["--interval", "0"], "--interval"), (["--nope"], "No such option")):  # fmt: skip
        r = grid.run("gb2_job_status", *args)
        assert r.code == 2 and message in r.err, (args, r.err)
        assert r.err.count("\n") == 1


def test_wait_exit_codes(grid, tmp_path):
    submit(grid, "waitok", NTUPLE, "-i", UUBAR)
    r = grid.run("gb2_job_status", "-p", "waitok", "--wait", "--interval", "0.2")
    assert r.code == 0, r.err
    assert "Completed:0 Deleted:0 Done:3" in r.out
    submit(grid, "waitbad", failing_steering(tmp_path))
    r = grid.run("gb2_project_summary", "-p", "waitbad", "--wait", "--interval", "0.2", "--json")
    assert r.code == 1
    assert r.json()["projects"][0]["status"] == "Failed"
    timeout = grid.run("gb2_job_status", "--status", "Killed", "--wait", "--interval", "0.2", "--timeout", "0.5")
    assert timeout.code == 1  # no job at all is not "all Done"
    never = grid.run("gb2_job_status", "-p", "never", "--wait", "--interval", "0.2", "--timeout", "0.5")
    assert never.code == 5  # a project that does not exist: nothing to wait for


def test_project_summary(grid, tmp_path):
    submit(grid, "psA", NTUPLE, "-i", UUBAR)
    submit(grid, "psB", failing_steering(tmp_path))
    grid.wait_project("psA")
    grid.wait_project("psB")
    r = grid.run("gb2_project_summary")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].split() == ["Project", "Owner", "Status", "Done", "Fail", "Run", "Wait", "Scout", "Submission",
                                "Time(UTC)", "Duration"]  # fmt: skip
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert rows["psA"][:8] == ["psA", "alice", "Done", "3", "0", "0", "0", "0"]
    assert rows["psB"][:8] == ["psB", "alice", "Failed", "0", "1", "0", "0", "0"]
    assert re.fullmatch(r"\d\d:\d\d:\d\d", rows["psA"][-1])
    data = grid.run("gb2_project_summary", "-p", "psA", "--json").json()["projects"]
    assert [p["project"] for p in data] == ["psA"]
    assert set(data[0]) == {"project", "owner", "status", "jobs", "done", "failed", "running", "waiting", "scouting",
                            "counts", "submitted", "last_update", "duration", "scouts"}  # fmt: skip
    assert data[0]["scouts"] is None  # 3 jobs: no scouts
    missing = grid.run("gb2_project_summary", "-p", "nothing_here")
    assert missing.code == 5 and missing.out == "" and missing.err.count("\n") == 1
    assert "no project nothing_here of alice" in missing.err


def test_not_logged_in_is_exit_3(grid):
    grid.run("gb2_proxy_destroy")
    r = grid.run("gb2_job_status", "-p", "x")
    assert r.code == 3 and "gb2_proxy_init" in r.err


def test_project_summary_bad_input(grid):
    for args, message in ((["--interval", "0"], "--interval"), (["--timeout", "-1"], "--timeout"), (["--bogus"], "No such option")):
        r = grid.run("gb2_project_summary", *args)
        assert r.code == 2 and message in r.err, (args, r.err)
        assert r.err.count("\n") == 1
