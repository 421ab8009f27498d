"""gbasf2 as a user runs it: options, checks, prompts, the plan and the submission."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gb2.jobs import jdl
from tests.cli import CHARGED, COLLECTION, EXAMPLES, RELEASE, SIGNAL, UUBAR

NTUPLE = str(EXAMPLES / "ntuple_analysis.py")


def jobs_of(grid, project: str, *params: str) -> list[dict]:
    return list(grid.dx.iter_search(["JobID", "JobName", *params],
                                     [{"parameter": "JobGroup", "operator": "eq", "value": project}]))  # fmt: skip


def jdl_of(grid, job_id: int) -> jdl.ClassAd:
    return jdl.parse(grid.server.state.services["jobs"].jdl_of(job_id))


def test_dryrun_shows_the_plan_and_submits_nothing(grid):
    r = grid.run("gbasf2", NTUPLE, "-p", "dry", "-s", RELEASE, "-i", UUBAR, "--dryrun")
    assert r.code == 0, r.err
    for line in ("Project summary", "** Project name: dry", "** Dataset path: /belle/user/alice/dry",
                 "** Number of input files: 3", "** Number of jobs: 3", "Processed events:",
                 "Estimated CPU time per job: 10 min", "Please consider providing --cputime or --evtpersec",
                 "Dry run: nothing was submitted."):  # fmt: skip
        assert line in r.out
    assert jobs_of(grid, "dry") == []
    assert not grid.dx.search(["JobID"]).rows
    plan = grid.run("gbasf2", NTUPLE, "-p", "dry", "-s", RELEASE, "-i", UUBAR, "--dryrun", "--json").json()
    assert plan["jobs"] == 3 and plan["input_files"] == 3 and plan["dryrun"] is True
    assert plan["output_dataset"] == "/belle/user/alice/dry" and plan["input_events"] > 0


def test_submission_runs_to_done_with_outputs(grid):
    r = grid.run("gbasf2", NTUPLE, "-p", "ana1", "-s", RELEASE, "-i", UUBAR, "--force", "--cputime", "30",
                 "--priority", "7", "--basf2opt", "-n 20")  # fmt: skip
    assert r.code == 0, r.err
    assert "3 jobs submitted to project ana1" in r.out
    jobs = jobs_of(grid, "ana1", "UserPriority", "JobType", "Owner")
    assert sorted(j["JobName"] for j in jobs) == ["ana1_00000", "ana1_00001", "ana1_00002"]
    assert {j["UserPriority"] for j in jobs} == {7} and {j["Owner"] for j in jobs} == {"alice"}
    ad = jdl_of(grid, jobs[0]["JobID"])
    assert ad.string("Executable") == "basf2helper.py" and ad.integer("CPUTime") == 30 * 60
    assert "--basf2opt='-n 20'" in ad.string("Arguments") and ad.string("BASF2Release") == RELEASE
    assert ad.strings("InputData")[0].startswith(f"LFN:{UUBAR}/sub00/mdst_")
    assert grid.wait_project("ana1") == {"Done": 3}
    listing = grid.run("gb2_ds_list", "ana1/sub00", "-l", "--json").json()["entries"]
    assert len(listing) == 3
    for entry, job in zip(sorted(listing, key=lambda e: e["lfn"]), sorted(jobs, key=lambda j: j["JobName"]), strict=True):
        index = int(job["JobName"][-5:])
        assert entry["lfn"].endswith(f"/sub00/ntuple_{index:05d}_job{job['JobID']}_00.root")
        assert entry["events"] is not None and entry["bytes"] > 0


def test_every_input_form(grid, tmp_path):
    block = f"{UUBAR}/sub00"
    one_file = grid.run("gb2_ds_list", block).out.split()[0]
    dslist = tmp_path / "inputs.txt"
    dslist.write_text(f"# from the Dataset Searcher\n{CHARGED}\n")
    cases = {
        "comma": ["-i", f"{UUBAR},{CHARGED}"],
        "block": ["-i", block],
        "file": ["-i", one_file],
        "collection": ["-i", COLLECTION],
        "dslist": ["--input_dslist", str(dslist)],
    }
    expected = {"comma": 6, "block": 3, "file": 1, "collection": 6, "dslist": 3}
    for name, args in cases.items():
        plan = grid.run("gbasf2", NTUPLE, "-p", f"in_{name}", "-s", RELEASE, *args, "--dryrun", "--json")
        assert plan.code == 0, (name, plan.err)
        assert plan.json()["input_files"] == expected[name], name


def test_files_per_job_and_grouping(grid):
    # uubar has replicas at KEK and DESY, the signal sample only at KEK.
    both = f"{UUBAR},{SIGNAL}"
    by_site = grid.run("gbasf2", NTUPLE, "-p", "grp", "-s", RELEASE, "-i", both, "-n", "3", "--dryrun", "--json").json()
    assert sorted(len(j) for j in by_site["job_inputs"]) == [2, 3]
    for job in by_site["job_inputs"]:  # a job never mixes files that share no storage element
        assert len({lfn.split("/mdst/")[0] for lfn in job}) == 1
    by_size = grid.run("gbasf2", NTUPLE, "-p", "grp", "-s", RELEASE, "-i", both, "-n", "3",
                       "--input_grouping", "size", "--dryrun", "--json").json()  # fmt: skip
    assert by_size["jobs"] == 2 and all(len(j) <= 3 for j in by_size["job_inputs"])
    assert sum(len(j) for j in by_size["job_inputs"]) == 5


def test_placement_and_job_options(grid):
    r = grid.run("gbasf2", NTUPLE, "-p", "place", "-s", RELEASE, "-i", UUBAR, "--force", "--site", "LCG.DESY.de",
                 "--banned_site", "LCG.KEK.jp", "--platform", "EL9", "--jobtype", "User", "--evtpersec", "0.1",
                 "--noscout")  # fmt: skip
    assert r.code == 0, r.err
    jobs = jobs_of(grid, "place", "Site")
    ad = jdl_of(grid, jobs[0]["JobID"])
    assert ad.strings("Site") == ["LCG.DESY.de"] and ad.strings("BannedSites") == ["LCG.KEK.jp"]
    assert ad.string("Platform") == "EL9"
    assert ad.integer("CPUTime") > 10 * 60  # from the events and --evtpersec
    grid.wait_project("place")
    assert {j["Site"] for j in jobs_of(grid, "place", "Site")} == {"LCG.DESY.de"}


def test_sandbox_files_and_input_datafiles(grid, tmp_path):
    aliases = tmp_path / "aliases.txt"
    aliases.write_text("K_S0:mine\n")
    steering = tmp_path / "uses_files.py"
    steering.write_text(
        "import os, sys\n"
        "assert open('aliases.txt').read() == 'K_S0:mine\\n'\n"
        "assert any(n.startswith('mdst_') for n in os.listdir('.')), os.listdir('.')\n"
        "print('sandbox ok')\n"
    )
    extra = grid.run("gb2_ds_list", f"{CHARGED}/sub00").out.split()[0]
    r = grid.run("gbasf2", steering, "-p", "sbx", "-s", RELEASE, "--force", "-f", aliases,
                 "--input_datafiles", extra)  # fmt: skip
    assert r.code == 0, r.err
    assert grid.wait_project("sbx") == {"Done": 1}
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(11 * 1024 * 1024))
    refused = grid.run("gbasf2", steering, "-p", "sbx2", "-s", RELEASE, "--force", "-f", big)
    assert refused.code == 2 and "over the 10 MB limit" in refused.err
    shipped = grid.run("gbasf2", steering, "-p", "sbx3", "-s", RELEASE, "--force", "-f", aliases, "--lfn_sandboxfiles",
                       "--input_datafiles", extra)  # fmt: skip
    assert shipped.code == 0, shipped.err
    jobs = jobs_of(grid, "sbx3")
    assert any(e.startswith("LFN:/belle/user/alice/sbx3/sandbox/aliases.txt") for e in jdl_of(grid, jobs[0]["JobID"]).strings("InputSandbox"))
    assert grid.wait_project("sbx3") == {"Done": 1}


def test_input_less_repetition_and_output_ds(grid):
    mc = str(EXAMPLES / "mc_generation.py")
    r = grid.run("gbasf2", mc, "-p", "mcgen", "-s", RELEASE, "--repetition", "2", "--basf2opt", "-n 5",
                 "--output_ds", "/belle/user/alice/mc/mcgen", "--force")  # fmt: skip
    assert r.code == 0, r.err
    assert grid.wait_project("mcgen") == {"Done": 2}
    files = grid.run("gb2_ds_list", "/belle/user/alice/mc/mcgen/sub00", "-l", "--json").json()["entries"]
    assert len(files) == 2 and all(f["events"] == 5 for f in files)
    assert all("_job" in f["lfn"] and f["lfn"].endswith("_00.mdst.root") for f in files)


def test_bad_input_is_refused_with_nothing_submitted(grid, tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import basf2\ndef broken(:\n    pass\n")
    cases = [
        ([broken, "-p", "b1", "-s", RELEASE], "syntax error"),
        ([tmp_path / "missing.py", "-p", "b2", "-s", RELEASE], "steering file not found"),
        ([NTUPLE, "-p", "x" * 33, "-s", RELEASE], "too long"),
        ([NTUPLE, "-p", "bad name", "-s", RELEASE], "characters gbasf2 does not allow"),
        ([NTUPLE, "-p", "b3", "-s", "not-a-release"], "not a basf2 release"),
        ([NTUPLE, "-p", "b4", "-s", RELEASE, "--priority", "11"], "--priority"),
        ([NTUPLE, "-p", "b6", "-s", RELEASE, "-i", UUBAR, "--repetition", "0"], "--repetition"),
        ([NTUPLE, "-p", "b7", "-s", RELEASE, "--basf2opt", "'unclosed"], "--basf2opt"),
        ([NTUPLE, "-p", "b8", "-s", RELEASE, "-n", "0"], "-n"),
        ([NTUPLE, "-s", RELEASE], "Missing option"),
        ([NTUPLE, "-p", "b9", "-s", RELEASE, "-f", tmp_path / "nope.so"], "sandbox file not found"),
    ]
    for args, message in cases:
        r = grid.run("gbasf2", *args, "--force")
        assert r.code == 2, (args, r.err)
        assert message in r.err, (args, r.err)
        assert r.err.count("\n") == 1 and "Traceback" not in r.err
    assert grid.dx.search(["JobID"]).total == 0


def test_project_names_are_never_reused(grid):
    assert grid.run("gbasf2", NTUPLE, "-p", "once", "-s", RELEASE, "-i", UUBAR, "--force").code == 0
    again = grid.run("gbasf2", NTUPLE, "-p", "once", "-s", RELEASE, "-i", UUBAR, "--force")
    assert again.code == 2 and "already exists" in again.err
    assert len(jobs_of(grid, "once")) == 3
    # Even with its output datasets deleted (Rucio frees those names), the jobs remember it.
    from gb2.client.rucio import RucioClient

    RucioClient(f"{grid.server.url}/rucio", token=grid.dx.access_token).erase("user.alice", "/belle/user/alice/once")
    grid.wait_project("once")
    grid.dx.delete([j["JobID"] for j in jobs_of(grid, "once")])
    third = grid.run("gbasf2", NTUPLE, "-p", "once", "-s", RELEASE, "-i", UUBAR, "--force")
    assert third.code == 2 and "already exists" in third.err


def test_resume_submits_only_missing_jobs(grid):
    assert grid.run("gbasf2", NTUPLE, "-p", "res", "-s", RELEASE, "-i", UUBAR, "--force").code == 0
    first = sorted(j["JobID"] for j in jobs_of(grid, "res"))
    r = grid.run("gbasf2", NTUPLE, "-p", "res", "-s", RELEASE, "-i", f"{UUBAR},{CHARGED}", "--force", "--resume")
    assert r.code == 0, r.err
    assert "3 jobs submitted to project res" in r.out
    assert "(3 jobs of the project were already submitted and were left alone)" in r.out
    now = sorted(j["JobID"] for j in jobs_of(grid, "res"))
    assert len(now) == 6 and now[:3] == first


def test_non_interactive_stdin_without_force_stops(grid):
    r = grid.run("gbasf2", NTUPLE, "-p", "ask", "-s", RELEASE, "-i", UUBAR)
    assert r.code == 2 and "pass --force to submit" in r.err
    assert jobs_of(grid, "ask") == []


def _answer_prompt(argv: list[str], answer: str, env: dict) -> tuple[int, str]:
    """Run a command on a pseudo-terminal and answer its Y/N question."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    output = b""
    answered = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"Please enter Y or N" in output:
                os.write(master, answer.encode() + b"\n")
                answered = True
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(master)
    return proc.returncode, output.decode(errors="replace")


@pytest.mark.parametrize("answer, submitted", [("n", False), ("y", True)])
def test_the_y_n_question_on_a_terminal(grid, answer, submitted):
    env = {**os.environ, "GB2_PROFILE": "test"}
    code, out = _answer_prompt(
        [str(Path(sys.executable).with_name("gbasf2")), NTUPLE, "-p", f"tty{answer}", "-s", RELEASE, "-i", UUBAR],
        answer,
        env,
    )
    assert "Are you sure to submit the project?" in out
    assert (code == 0) is submitted, out
    assert bool(jobs_of(grid, f"tty{answer}")) is submitted
