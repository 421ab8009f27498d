"""gb2_job_reschedule, gb2_job_kill, gb2_job_delete and gb2_job_output, driven as a user does."""

from __future__ import annotations

import time

from tests.cli import EXAMPLES, UUBAR, submit
from tests.helpers import flaky_steering


def status_of(grid, job_id: int) -> dict:
    return grid.run("gb2_job_status", "-j", str(job_id), "--json").json()["jobs"][0]


def slow_steering(tmp_path) -> str:
    path = tmp_path / "slow.py"
    path.write_text("import time, basf2\ntime.sleep(120)\n")
    return str(path)


def wait_status(grid, job_id: int, wanted: set[str], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while (row := status_of(grid, job_id))["status"] not in wanted:
        assert time.monotonic() < deadline, row
        time.sleep(0.2)
    return row


def test_a_failed_job_is_read_rescheduled_and_downloaded(grid, tmp_path, monkeypatch):
    """The analyst's loop after a failure: read the log, reschedule, download the new output."""
    steering = flaky_steering(tmp_path)
    [job] = submit(grid, "flaky", steering, "-i", f"{UUBAR}/sub00", "-n", "3")
    submit(grid, "fine", EXAMPLES / "mc_generation.py")
    grid.wait_project("flaky")
    grid.wait_project("fine")

    logs = grid.run("gb2_job_output", "-p", "flaky", "--dir", str(tmp_path))
    assert logs.code == 0, logs.err
    assert "1 jobs are selected." in logs.out and f"Downloaded: {job} retrieved in" in logs.out
    folder = tmp_path / "log" / "flaky" / str(job)
    assert "transient failure" in (folder / "Script1_basf2helper.py.log").read_text()
    assert {"std.out", "std.err", "job.info"} <= {p.name for p in folder.iterdir()}

    refused = grid.run("gb2_job_reschedule", "-p", "flaky")  # stdin is not a terminal here
    assert refused.code == 2 and "--force" in refused.err and refused.err.count("\n") == 1
    assert status_of(grid, job)["reschedule_count"] == 0

    done = grid.run("gb2_job_reschedule", "-p", "flaky", "fine", "--force", "--json").json()
    assert done["job_ids"] == [job] and done["failed"] == {} and done["not_found"] == []
    assert set(done["skipped"].values()) == {"Done"} and done["selected"] == 1 + len(done["skipped"])
    assert grid.wait_project("flaky") == {"Done": 1}
    assert status_of(grid, job)["reschedule_count"] == 1

    monkeypatch.chdir(tmp_path)
    got = grid.run("gb2_ds_get", "flaky", "--force")
    assert got.code == 0, got.err
    assert [p.name for p in (tmp_path / "flaky" / "sub00").iterdir()] == [f"pions_00000_job{job}_01.root"]

    # -j layout, and the newest sandbox replaces the one fetched before
    again = grid.run("gb2_job_output", "-j", str(job), "--dir", str(tmp_path), "--json").json()
    assert again["downloaded"] == {str(job): str(tmp_path / "log" / str(job))}
    assert "transient failure" not in (tmp_path / "log" / str(job) / "Script1_basf2helper.py.log").read_text()
    assert not [p for p in (tmp_path / "log").iterdir() if p.name.startswith(".")]  # no partial folder left

    nothing = grid.run("gb2_job_reschedule", "-p", "flaky", "--force")
    assert nothing.code == 0, nothing.err
    assert "1 jobs are selected." in nothing.out and "No job to reschedule." in nothing.out
    assert "Done: only Failed, Killed or Stalled jobs are rescheduled" in nothing.out


def test_kill_then_delete(grid, tmp_path):
    slow = slow_steering(tmp_path)
    [job] = submit(grid, "slow", slow)
    wait_status(grid, job, {"Running"})

    # A running job has no logs yet: listed, not a failure (b2luigi fetches a project's
    # logs while some of its jobs still run, and stops on a non-zero exit)
    early = grid.run("gb2_job_output", "-p", "slow", "--dir", str(tmp_path), "--json")
    assert early.code == 0, early.err
    assert early.json()["no_sandbox"] == {str(job): "no output sandbox (status Running)"}

    unselected = grid.run("gb2_job_kill", "--force")
    assert unselected.code == 2 and "say which jobs to kill" in unselected.err

    killed = grid.run("gb2_job_kill", "-p", "slow", "--force")
    assert killed.code == 0, killed.err
    assert f"Killed 1 job: {job}" in killed.out
    assert wait_status(grid, job, {"Killed"}, timeout=10)["status"] == "Killed"

    assert grid.run("gb2_diagnostic", "--failed_job", str(job), "--json").json()["cause"] == "killed"
    ended = grid.run("gb2_job_output", "-p", "slow", "--dir", str(tmp_path), "--json")
    assert ended.code == 1 and ended.json()["no_sandbox"] == {str(job): "no output sandbox (status Killed)"}
    again = grid.run("gb2_job_kill", "-j", str(job), "--force", "--json").json()
    assert again["job_ids"] == [] and again["skipped"] == {str(job): "Killed"}

    deleted = grid.run("gb2_job_delete", "-p", "slow", "--force", "--json")
    assert deleted.code == 0 and deleted.json()["job_ids"] == [job]
    summary = grid.run("gb2_job_status", "-p", "slow").out
    assert "Deleted:1" in summary
    gone = grid.run("gb2_job_reschedule", "-j", str(job), "--force")
    assert gone.code == 0 and "deleted" in gone.out and status_of(grid, job)["status"] == "Deleted"


def test_delete_kills_a_running_job_first(grid, tmp_path):
    slow = slow_steering(tmp_path)
    [job] = submit(grid, "slowdel", slow)
    wait_status(grid, job, {"Running"})
    r = grid.run("gb2_job_delete", "-j", str(job), "--force")
    assert r.code == 0 and f"Deleted 1 job: {job}" in r.out, r.out + r.err
    assert status_of(grid, job)["status"] == "Deleted"


def test_other_users_jobs_and_bad_input(grid, tmp_path):
    slow = slow_steering(tmp_path)
    [job] = submit(grid, "alices", slow)
    grid.login("bob")
    mine_only = grid.run("gb2_job_kill", "-j", str(job), "--force")  # one rule: another user's job is exit 4
    assert mine_only.code == 4 and mine_only.err.count("\n") == 1 and f"job {job} belongs to alice" in mine_only.err
    refused = grid.run("gb2_job_kill", "-u", "alice", "-p", "alices", "--force")
    assert refused.code == 4 and refused.err.count("\n") == 1, refused.err
    assert grid.run("gb2_job_output", "-u", "alice", "-j", str(job)).code in (1, 4)
    grid.login("alice")
    assert status_of(grid, job)["status"] not in ("Killed", "Deleted")
    grid.run("gb2_job_kill", "-p", "alices", "--force")

    for tool, args, message in (
        ("gb2_job_reschedule", ["-j", "12x"], "not a number"),
        ("gb2_job_kill", ["--status", "Sleeping"], "unknown status"),
        ("gb2_job_delete", [], "say which jobs to delete"),
        ("gb2_job_output", [], "-p PROJECT or -j ID"),
        ("gb2_job_output", ["-j", "1", "--nope"], "No such option"),
    ):
        r = grid.run(tool, *args)
        assert r.code == 2 and message in r.err, (tool, args, r.err)
        assert r.err.count("\n") == 1
