"""The local engine: DIRAC-style JDL jobs run on this machine, driven through the DiracX client."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from gb2.client.diracx import DiracX
from gb2.jobs.sandbox import extract_archive, make_archive
from tests.helpers import jdl, login

FAST = {"heartbeat_seconds": 0.5, "engine_poll_seconds": 0.2, "min_cpu_time": 1}


@pytest.fixture
def grid(server_factory):
    return server_factory(run_engine=True, workers=2, **FAST)


@pytest.fixture
def alice(grid, tmp_path) -> DiracX:
    return login(grid, "alice", tmp_path)


def script_sandbox(dx: DiracX, tmp_path: Path, body: str, name: str = "run.sh") -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return dx.upload_sandbox(make_archive([(path, name)]))


def wait_for(dx: DiracX, job_ids: list[int], statuses: set[str], timeout: float = 60.0) -> dict[int, dict]:
    deadline = time.monotonic() + timeout
    while True:
        rows = dx.search(
            ["JobID", "Status", "MinorStatus", "ApplicationStatus", "Site", "RescheduleCounter"],
            [{"parameter": "JobID", "operator": "in", "values": job_ids}],
        ).rows
        by_id = {r["JobID"]: r for r in rows}
        if all(by_id[j]["Status"] in statuses for j in job_ids):
            return by_id
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs did not reach {statuses}: {rows}")
        time.sleep(0.1)


def history(dx: DiracX, job_id: int) -> list[tuple[str, str]]:
    row = dx.search(["JobID", "LoggingInfo"], [{"parameter": "JobID", "operator": "eq", "value": job_id}]).rows[0]
    return [(h["Status"], h["MinorStatus"]) for h in row["LoggingInfo"]]


def output_files(dx: DiracX, job_id: int, dest: Path, attempts: int = 1) -> list[str]:
    """Files of the newest output sandbox (each attempt of a rescheduled job keeps its own)."""
    pfns = dx.job_sandbox(job_id, "output")
    assert len(pfns) == attempts
    return sorted(extract_archive(dx.download_sandbox("SB:SandboxSE|" + pfns[-1]), dest))


def test_a_job_walks_dirac_states_to_done(alice: DiracX, tmp_path):
    sb = script_sandbox(alice, tmp_path, 'echo "hello from $DIRACJOBID at $DIRACSITE"\necho oops >&2\n')
    job = alice.submit_jdl([jdl(executable="run.sh", arguments="", InputSandbox=[sb], OutputSandbox=["std.out", "std.err"])])[0]["JobID"]
    row = wait_for(alice, [job], {"Done", "Failed"})[job]
    assert (row["Status"], row["MinorStatus"], row["ApplicationStatus"]) == ("Done", "Execution Complete", "Done")
    states = [s for s, _ in history(alice, job) if s != "idem"]
    assert states == ["Received", "Checking", "Waiting", "Matched", "Running", "Completing", "Done"]
    minors = [m for _, m in history(alice, job)]
    for step in ("Pilot Agent Submission", "Job Initialization", "Downloading InputSandbox",
                 "Input Data Resolution", "Application", "Uploading Output Sandbox"):  # fmt: skip
        assert step in minors
    out = tmp_path / "out"
    assert output_files(alice, job, out) == ["std.err", "std.out"]
    assert (out / "std.out").read_text() == f"hello from {job} at {row['Site']}\n"
    assert (out / "std.err").read_text() == "oops\n"
    assert alice.job_sandboxes(job)["Input"] == [sb.split("|", 1)[1]]  # assigned by the JobSanity step


def test_failing_executable_ends_failed_with_reason(alice: DiracX, tmp_path):
    sb = script_sandbox(alice, tmp_path, "echo 'Segmentation violation' >&2\nexit 3\n")
    bad = alice.submit_jdl([jdl(executable="run.sh", arguments="", InputSandbox=[sb])])[0]["JobID"]
    missing = alice.submit_jdl([jdl(executable="no_such_program_xyz", arguments="")])[0]["JobID"]
    rows = wait_for(alice, [bad, missing], {"Done", "Failed"})
    assert (rows[bad]["Status"], rows[bad]["MinorStatus"]) == ("Failed", "Application Finished With Errors")
    assert rows[bad]["ApplicationStatus"] == "Failed (exit status 3)"
    out = tmp_path / "out"
    assert "std.err" in output_files(alice, bad, out)
    assert "Segmentation violation" in (out / "std.err").read_text()
    assert (rows[missing]["Status"], rows[missing]["MinorStatus"]) == ("Failed", "Application not found")


def test_an_application_status_the_payload_sets_is_kept(alice: DiracX, tmp_path):
    """A payload reports its own ApplicationStatus with its job's token (as basf2helper does): the
    wrapper's end keeps it, whether the payload then succeeds or fails; one that sets none ends
    with the wrapper's own words."""
    script = tmp_path / "report.py"
    script.write_text(
        "import os, sys\n"
        "from gb2.client.diracx import DiracX\n"
        "token = open(os.environ['GB2_JOB_TOKEN_FILE']).read().strip()\n"
        "dx = DiracX(os.environ['GB2_DIRACX_URL'], access_token=token)\n"
        "if sys.argv[1] != '-':\n"
        "    dx.set_job_status([int(os.environ['DIRACJOBID'])], application=sys.argv[1], source='Payload')\n"
        "print('reported', sys.argv[1])\n"
        "sys.exit(int(sys.argv[2]))\n"
    )
    sb = alice.upload_sandbox(make_archive([(script, "report.py")]))
    cases = {"'Analysed 42 events' 0": ("Done", "Execution Complete", "Analysed 42 events"),
             "'Cuts failed' 2": ("Failed", "Application Finished With Errors", "Cuts failed"),
             "- 0": ("Done", "Execution Complete", "Done"),
             "- 4": ("Failed", "Application Finished With Errors", "Failed (exit status 4)")}  # fmt: skip
    jobs = {alice.submit_jdl([jdl(f"r{i}", executable="report.py", arguments=args, InputSandbox=[sb])])[0]["JobID"]: want
            for i, (args, want) in enumerate(cases.items())}  # fmt: skip
    rows = wait_for(alice, list(jobs), {"Done", "Failed"})
    assert {j: (r["Status"], r["MinorStatus"], r["ApplicationStatus"]) for j, r in rows.items()} == jobs
    for job in jobs:
        out = tmp_path / f"out{job}"
        assert "std.out" in output_files(alice, job, out)
        assert (out / "std.out").read_text().startswith("reported ")


def test_optimiser_refuses_impossible_jobs(alice: DiracX):
    no_data = alice.submit_jdl([jdl(InputData=["LFN:/belle/MC/nope/sub00/missing.root"])])[0]["JobID"]
    nowhere = alice.submit_jdl([jdl(Site="LCG.Nowhere.xx")])[0]["JobID"]
    rows = wait_for(alice, [no_data, nowhere], {"Failed"})
    assert rows[no_data]["MinorStatus"] == "Input Data Not Available"
    assert rows[nowhere]["MinorStatus"] == "No candidate sites available"


def test_banned_and_wanted_sites(alice: DiracX):
    jobs = [j["JobID"] for j in alice.submit_jdl([jdl(f"s{i}", BannedSites=["LCG.KEK.jp", "LCG.DESY.de"]) for i in range(3)])]
    pinned = alice.submit_jdl([jdl(Site="OSG.BNL.us")])[0]["JobID"]
    rows = wait_for(alice, [*jobs, pinned], {"Done"})
    assert {rows[j]["Site"] for j in jobs} <= {"LCG.KIT.de", "OSG.BNL.us"}
    assert rows[pinned]["Site"] == "OSG.BNL.us"


def test_waiting_jobs_start_by_priority_then_in_submission_order(server_factory, tmp_path):
    grid = server_factory(run_engine=True, workers=1, **FAST)
    alice = login(grid, "alice", tmp_path)
    priorities = [1, 5, 1, 5, 3, 1]
    ids = [j["JobID"] for j in alice.submit_jdl([jdl(f"p{i}", executable="/bin/true", arguments="", Priority=p)
                                                  for i, p in enumerate(priorities)])]  # fmt: skip
    wait_for(alice, ids, {"Done"})
    rows = alice.search(["JobID", "StartExecTime"], [{"parameter": "JobID", "operator": "in", "values": ids}]).rows
    started = [r["JobID"] for r in sorted(rows, key=lambda r: r["StartExecTime"])]
    assert started == sorted(ids, key=lambda j: (-priorities[ids.index(j)], j))


def test_parametric_jobs_run(alice: DiracX):
    ids = [j["JobID"] for j in alice.submit_jdl(['[Executable="/bin/echo"; Arguments="%s"; Parameters={"a","b","c"}; JobName="p_%n"]'])]
    rows = wait_for(alice, ids, {"Done", "Failed"})
    assert {r["Status"] for r in rows.values()} == {"Done"}


def test_kill_stops_a_running_payload(alice: DiracX, tmp_path):
    flag = tmp_path / "still-running"
    sb = script_sandbox(alice, tmp_path, f"sleep 30\ntouch {flag}\n")
    job = alice.submit_jdl([jdl(executable="run.sh", arguments="", InputSandbox=[sb])])[0]["JobID"]
    wait_for(alice, [job], {"Running"})
    time.sleep(0.5)
    started = time.monotonic()
    alice.kill([job])
    follower = alice.submit_jdl([jdl("after", arguments="next")])[0]["JobID"]
    wait_for(alice, [follower], {"Done"}, timeout=20)
    assert time.monotonic() - started < 15
    assert wait_for(alice, [job], {"Killed"})[job]["Status"] == "Killed"
    time.sleep(1)
    assert not flag.exists()


def test_reschedule_runs_the_job_again(alice: DiracX, tmp_path):
    marker = tmp_path / "second-attempt"
    sb = script_sandbox(alice, tmp_path, f'if [ -e {marker} ]; then echo attempt2; else touch {marker}; exit 1; fi\n')
    job = alice.submit_jdl([jdl(executable="run.sh", arguments="", InputSandbox=[sb])])[0]["JobID"]
    assert wait_for(alice, [job], {"Done", "Failed"})[job]["Status"] == "Failed"
    alice.reschedule([job])
    row = wait_for(alice, [job], {"Done", "Failed"})[job]
    assert (row["Status"], row["RescheduleCounter"]) == ("Done", 1)
    out = tmp_path / "out"
    output_files(alice, job, out, attempts=2)
    assert (out / "std.out").read_text() == "attempt2\n"


def test_cpu_time_limit(alice: DiracX, tmp_path):
    sb = script_sandbox(alice, tmp_path, "while :; do :; done\n")
    job = alice.submit_jdl([jdl(executable="run.sh", arguments="", InputSandbox=[sb], CPUTime=1)])[0]["JobID"]
    row = wait_for(alice, [job], {"Done", "Failed"}, timeout=60)[job]
    assert (row["Status"], row["MinorStatus"]) == ("Failed", "Job has reached the CPU limit of the queue")


def test_clean_stop_puts_running_jobs_back_to_waiting(server_factory, tmp_path):
    data = tmp_path / "grid"
    first = server_factory(data_dir=data, run_engine=True, **FAST)
    dx = login(first, "alice", tmp_path)
    marker = tmp_path / "again"
    sb = script_sandbox(dx, tmp_path, f"if [ -e {marker} ]; then echo recovered; exit 0; fi\nsleep 60\n")
    job = dx.submit_jdl([jdl(executable="run.sh", arguments="", InputSandbox=[sb])])[0]["JobID"]
    wait_for(dx, [job], {"Running"})
    first.stop()  # a clean stop: the engine ends the payload and gives the job back
    marker.touch()
    second = server_factory(data_dir=data, run_engine=True, stall_seconds=1, stalled_to_failed_seconds=1, **FAST)
    dx = DiracX(second.url, dx.tokens)
    row = wait_for(dx, [job], {"Done", "Failed"})[job]
    assert (row["Status"], row["RescheduleCounter"]) == ("Done", 0)  # it ran again, not as a reschedule
    steps = [(s, m) for s, m in history(dx, job) if s != "idem"]
    waiting_again = [i for i, (s, m) in enumerate(steps) if (s, m) == ("Waiting", "Requeued: the gb2 server was stopped")]
    assert waiting_again, steps
    assert "Stalled" not in [s for s, _ in steps]  # only a crash stalls a job
    assert [s for s, _ in steps[waiting_again[0] - 1 : waiting_again[0]]] == ["Running"]


def test_workdirs_are_cleaned_and_tokens_private(grid, alice: DiracX, tmp_path):
    sb = script_sandbox(alice, tmp_path, 'stat -c %a "$GB2_JOB_TOKEN_FILE"\n')
    job = alice.submit_jdl([jdl(executable="run.sh", arguments="", InputSandbox=[sb])])[0]["JobID"]
    wait_for(alice, [job], {"Done"})
    out = tmp_path / "out"
    output_files(alice, job, out)
    assert (out / "std.out").read_text().strip() == "600"
    work = grid.settings.work_root
    assert not work.exists() or os.listdir(work) == []


def test_running_many_jobs_opens_no_database_connection_per_job(grid, alice: DiracX):
    # Each job's runner is a thread: a connection opened in it would stay open for ever
    # (100,000 jobs: the server runs out of file descriptors).
    database = os.path.realpath(grid.settings.data_dir / "gb2.sqlite")

    def open_database_files() -> int:
        return sum(1 for fd in os.listdir("/proc/self/fd")
                   if os.path.realpath(f"/proc/self/fd/{fd}").startswith(database))  # fmt: skip

    first = alice.submit_jdl([jdl("warm", executable="/bin/true", arguments="")])[0]["JobID"]
    wait_for(alice, [first], {"Done"})
    before = open_database_files()
    jobs = [j["JobID"] for j in alice.submit_jdl([jdl(f"t{i}", executable="/bin/true", arguments="") for i in range(30)])]
    wait_for(alice, jobs, {"Done"})
    deadline = time.monotonic() + 10  # the last runners are ending: their slots are freed by the next pass
    while grid.state.db.execute("SELECT COUNT(*) FROM engine_slots")[0][0] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert grid.state.db.execute("SELECT COUNT(*) FROM engine_slots")[0][0] == 0
    assert open_database_files() - before < 10


def test_jobs_naming_scouts_wait_in_scouting_and_only_for_their_owners_scouts(grid, alice, tmp_path):
    """The optimiser holds a job whose JDL names scout jobs (ScoutJobIDs) in Scouting; the scout
    agent releases it when they are Done. Another user's job cannot be one's scout."""
    sb = script_sandbox(alice, tmp_path, "sleep 1\necho scouted\n")
    scout = alice.submit_jdl([jdl("s", "eng", executable="run.sh", arguments="", InputSandbox=[sb])])[0]["JobID"]
    held = alice.submit_jdl([jdl("p", "eng", executable="/bin/echo", ScoutJobIDs=[scout])])[0]["JobID"]
    assert wait_for(alice, [held], {"Scouting"})[held]["MinorStatus"] == "Waiting for Scout Job Completion"
    assert wait_for(alice, [scout], {"Done"})
    assert wait_for(alice, [held], {"Done"})
    steps = [s for s, _ in history(alice, held)]
    assert steps.index("Scouting") < steps.index("Waiting") < steps.index("Running")
    bob = login(grid, "bob", tmp_path)
    theirs = bob.submit_jdl([jdl("b", "eng", executable="/bin/echo", ScoutJobIDs=[scout])])[0]["JobID"]
    row = wait_for(bob, [theirs], {"Failed"})[theirs]
    assert row["MinorStatus"] == f"Scout job {scout} failed" and "no such scout job" in row["ApplicationStatus"]
