"""What a new user and the command lines of workflow tools hit (issue 9's bugs), through the CLI.

Each test drives the embedded grid the way a user does and checks what they see:
options that reach basf2 intact, an output location checked while planning, the
--repetition of b2luigi, listings without duplicates, a removed project that is
not resumable, releases checked against the grid's list, honest printouts, one
exit code for another user's jobs, and shell completion of subcommands.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from gb2.jobs import jdl
from tests.cli import EXAMPLES, RELEASE, UUBAR, Grid, add_remote_profile, submit

MCGEN = str(EXAMPLES / "mc_generation.py")
NTUPLE = str(EXAMPLES / "ntuple_analysis.py")


def events_of(grid: Grid, project: str) -> list[int]:
    r = grid.run("gb2_ds_query_file", f"/belle/user/alice/{project}/sub00/*", "-m", "nEvents", "--json")
    assert r.code == 0, r.err
    return [f["nEvents"] for f in r.json()["files"]]


def arguments_of(grid: Grid, project: str) -> list[str]:
    """The JDL Arguments of a project's jobs, in job-name order (as the job database stores them)."""
    rows = grid.dx.iter_search(["JobID", "JobName"], [{"parameter": "JobGroup", "operator": "eq", "value": project}])
    ids = [int(r["JobID"]) for r in sorted(rows, key=lambda r: r["JobName"])]
    return [jdl.parse(grid.server.state.services["jobs"].jdl_of(i)).string("Arguments") or "" for i in ids]


# -- 1: --basf2opt reaches basf2 intact, whatever its form ---------------------------------------


def test_basf2opt_reaches_basf2_in_every_form(grid):
    forms = {"opt1": ["--basf2opt=-n5"], "opt2": ["--basf2opt", "-n 7"], "opt3": ["--basf2opt=-n3 --random-seed=1"]}
    for project, option in forms.items():
        submit(grid, project, MCGEN, *option)
    for project in forms:
        assert grid.wait_project(project) == {"Done": 1}, grid.run("gb2_diagnostic", "--failed_job", "1").out
    assert events_of(grid, "opt1") == [5]
    assert events_of(grid, "opt2") == [7]
    assert events_of(grid, "opt3") == [3]


# -- 2: --output_ds in a group area: Belle II's scope rule, checked while planning -----------------


def test_output_ds_in_a_group_area_is_checked_by_the_dry_run(grid):
    r = grid.run("gbasf2", NTUPLE, "-p", "grp", "-s", RELEASE, "-i", UUBAR, "--output_ds", "/belle/group/physics/grp",
                 "--dryrun", "--force")  # fmt: skip
    assert r.code == 4 and r.err.count("\n") == 1, r.err
    # no scope group.grp exists, so the name is in the plain "group" scope, which alice may not write
    assert "scope 'group'" in r.err and "write below /belle/user/alice/" in r.err
    assert grid.dx.search(["JobID"]).total == 0


# -- 3: --repetition with -i, and every option b2luigi's gbasf2 integration emits ------------------


def test_repetition_with_inputs_runs_each_input_job_n_times(grid):
    plan = grid.run("gbasf2", NTUPLE, "-p", "rep", "-s", RELEASE, "-i", UUBAR, "--repetition", "2", "--dryrun",
                    "--json").json()  # fmt: skip
    assert plan["jobs"] == 6 and plan["input_files"] == 6  # 3 input files x 2
    job_ids = submit(grid, "rep", NTUPLE, "-i", UUBAR, "--repetition", "2", "--noscout")
    assert len(job_ids) == 6
    assert grid.wait_project("rep") == {"Done": 6}
    arguments = arguments_of(grid, "rep")
    assert [a.split("--index ")[1].split()[0] for a in arguments] == [str(i) for i in range(6)]
    seeds = [a.split("--random-seed ")[1].split()[0] for a in arguments]
    assert len(set(seeds)) == 6
    names = grid.run("gb2_ds_list", "/belle/user/alice/rep/sub00").out.split()
    assert len(names) == 6 and len({n.split("_job")[0] for n in names}) == 6  # six distinct output indices


def test_every_option_b2luigi_emits_is_accepted(grid, tmp_path):
    """The command line b2luigi 1.3.0 builds (``_build_gbasf2_submit_command``) with every setting on,
    including its "--input_grouping s i t e" (it joins the letters of the word)."""
    pickle = tmp_path / "serialized_basf2_path.pkl"
    pickle.write_bytes(b"pickled path")
    extra = tmp_path / "extra.txt"
    extra.write_text("an additional file")
    line = (f"gbasf2 {NTUPLE} -p b2l_all -s {RELEASE} -f {pickle} {extra} --lfn_sandboxfiles  --noscout "
            f" -i {UUBAR}  --repetition 2  --input_datafiles {UUBAR}/sub00/mdst_000001_prod00025676_task10020000001.root"
            " --force  --cputime 10  --evtpersec 50  --priority 5  --jobtype User  --basf2opt='-n 10' "
            " --input_grouping s i t e  --output_ds /belle/user/alice/b2l_all  --banned_site LCG.KEK.jp ")  # fmt: skip
    r = grid.run(*shlex.split(line), "--dryrun")
    assert r.code == 0, r.err
    assert "Number of jobs: 6" in r.out and "Banned sites: LCG.KEK.jp" in r.out


# -- 4: a glob over a dataset's datablocks lists each file once ------------------------------------


def test_ds_list_long_glob_lists_each_file_once(grid):
    listed = grid.run("gb2_ds_list", "-l", f"{UUBAR}/*")  # the glob names sub00; sub00 lists its files
    assert listed.code == 0, listed.err
    lines = listed.out.splitlines()
    assert len(lines) == 3 and len({line.split()[0] for line in lines}) == 3
    assert all(line.startswith(f"{UUBAR}/sub00/mdst_") and line.endswith(" bytes") for line in lines)
    assert "None" not in listed.out
    assert grid.run("gb2_ds_list", "-l", f"{UUBAR}/sub00/*").out == listed.out
    one = grid.run("gb2_ds_list", "-l", lines[0].split()[0]).out
    assert one == lines[0] + "\n"


# -- 5: a removed project is not resumable; a resume counts only what it submits -------------------


def test_removed_project_is_not_resumable(grid):
    submit(grid, "rmres", MCGEN, "--repetition", "2")
    grid.wait_project("rmres")
    assert grid.run("gb2_ds_rm", "rmres", "--force").code == 0
    r = grid.run("gbasf2", MCGEN, "-p", "rmres", "-s", RELEASE, "--repetition", "2", "--resume", "--force")
    assert r.code == 5 and r.err.count("\n") == 1 and "was removed" in r.err, r.err
    assert "submitted" not in r.out
    assert grid.run("gb2_ds_list", "rmres").code == 5  # no empty sub00 recreated
    assert grid.dx.search(["JobID"], [{"parameter": "JobGroup", "operator": "eq", "value": "rmres"}]).total == 2


def test_resume_with_nothing_missing_says_so(grid):
    submit(grid, "full", MCGEN, "--repetition", "2")
    r = grid.run("gbasf2", MCGEN, "-p", "full", "-s", RELEASE, "--repetition", "2", "--resume", "--force")
    assert r.code == 0, r.err
    assert "Nothing to submit: all 2 jobs of project full were already submitted." in r.out
    assert "jobs submitted" not in r.out


# -- 6: releases: checked against the grid's list, with the closest names ---------------------------


def test_unknown_release_is_refused_with_the_closest_names(grid):
    r = grid.run("gbasf2", NTUPLE, "-p", "rel", "-s", "light-2511-gacruz", "-i", UUBAR, "--dryrun")
    assert r.code == 2 and r.err.count("\n") == 1
    assert "light-2511-gacruz is not available on this grid; closest: light-2511-gacrux" in r.err
    listing = grid.run("gb2_check_release")
    assert listing.code == 0 and f"  {RELEASE}" in listing.out.splitlines()
    assert grid.run("gb2_check_release", RELEASE).out == f"{RELEASE} is available on the grid\n"
    data = grid.run("gb2_check_release", "release-99-99-99", "--json")
    assert data.code == 5 and data.err.startswith("gb2_check_release: error: release release-99-99-99 is not")
    assert set(data.json()) == {"source", "published", "releases", "release", "available", "closest"}
    assert data.json()["published"] is True and data.json()["available"] is False


# -- 7: honest printouts ---------------------------------------------------------------------------


def test_ds_search_without_matches_says_so(grid):
    r = grid.run("gb2_ds_search", "dataset", "--mc_event", "nothing_like_this")
    assert (r.code, r.out, r.err) == (0, "No dataset matches these criteria\n", "")


def test_ds_get_printouts(grid, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = grid.run("gb2_ds_get", UUBAR, "--force")
    assert first.code == 0, first.err
    assert "Failed files:" not in first.out and "Already present" not in first.out
    again = grid.run("gb2_ds_get", UUBAR, "--force")
    assert again.code == 0, again.err
    assert again.out.splitlines()[0] == f"All 3 files are already in {tmp_path}: verifying them"
    assert "Download 3 files" not in again.out and "Failed files:" not in again.out
    assert "Successfully downloaded files:" not in again.out


def test_summary_block_shows_banned_sites(grid):
    r = grid.run("gbasf2", NTUPLE, "-p", "ban", "-s", RELEASE, "-i", UUBAR, "--banned_site", "LCG.KEK.jp,LCG.DESY.de",
                 "--dryrun")  # fmt: skip
    assert r.code == 0 and "** Banned sites: LCG.KEK.jp, LCG.DESY.de" in r.out


def test_received_jobs_are_named_under_the_summary_keys(server_factory, capsys):
    srv = server_factory(run_engine=False)  # jobs stay Received
    add_remote_profile("quiet", srv)
    grid = Grid(srv, "quiet", capsys)
    grid.login("alice")
    submit(grid, "recv", NTUPLE, "-i", UUBAR)
    r = grid.run("gb2_job_status", "-p", "recv")
    lines = r.out.splitlines()
    assert lines[-2] == "Completed:0 Deleted:0 Done:0 Failed:0 Killed:0 Running:0 Scouting:0 Stalled:0 Waiting:3"
    assert lines[-1] == "Also: Received:3 (in Waiting)"
    assert grid.run("gb2_job_status", "-p", "recv", "--json").json()["statuses"] == {"Received": 3}


# -- 8: another user's job: one rule, exit 4, whichever way it is named ----------------------------


@pytest.mark.parametrize("tool", ["gb2_job_kill", "gb2_job_reschedule", "gb2_job_delete"])
def test_another_users_job_is_exit_4_by_id_and_by_project(server_factory, capsys, tool):
    srv = server_factory(run_engine=False)
    add_remote_profile("two", srv)
    grid = Grid(srv, "two", capsys)
    grid.login("alice")
    [job] = submit(grid, "alices", MCGEN)
    grid.login("bob")
    by_id = grid.run(tool, "-j", str(job), "--force")
    by_project = grid.run(tool, "-u", "alice", "-p", "alices", "--force")
    for r in (by_id, by_project):
        assert r.code == 4 and r.err.count("\n") == 1 and r.err.startswith(f"{tool}: error: "), r.err
    grid.login("alice")
    assert grid.run("gb2_job_status", "-j", str(job), "--json").json()["jobs"][0]["status"] == "Received"


# -- 9: completion of gb2_ds_search's subcommands --------------------------------------------------


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_subcommands_then_their_options():
    script = Path(__file__).resolve().parent.parent / "completions" / "gb2.bash"

    def complete(*words: str) -> list[str]:
        program = (f"source {script}\nCOMP_WORDS=({' '.join(shlex.quote(w) for w in words)}); "
                   f"COMP_CWORD={len(words) - 1}\n_gb2_complete; printf '%s\\n' \"${{COMPREPLY[@]}}\"\n")  # fmt: skip
        return subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True).stdout.split()

    assert complete("gb2_ds_search", "") == ["collection", "dataset"]
    assert complete("gb2", "ds_search", "d") == ["dataset"]
    assert "--mc_event" in complete("gb2_ds_search", "dataset", "")
    assert complete("gb2_ds_search", "collection", "--list_d") == ["--list_datasets"]
    assert complete("gb2_config", "server", "") == ["status", "start", "stop"]


# -- b2luigi's download command (issue 17's constraint on the exit-code rule) -----------------------


def test_b2luigi_download_of_a_glob_that_matches_nothing_exits_0(grid, tmp_path, monkeypatch):
    """b2luigi 1.3.0 runs exactly this and requires exit 0 with "No file found" on stdout when the
    outputs do not exist (yet); a project name that does not exist is still exit 5."""
    monkeypatch.chdir(tmp_path)
    failed = tmp_path / "failed_files.txt"
    line = f"gb2_ds_get --new --force /belle/user/alice/nothing_yet/sub*/ntuple_*.root --failed_lfns {failed}"
    r = grid.run(*shlex.split(line))
    assert (r.code, r.err) == (0, "") and "No file found" in r.out
    assert failed.read_text() == ""
    named = grid.run("gb2_ds_get", "--new", "--force", "nothing_yet", "--failed_lfns", str(failed))
    assert named.code == 5 and named.err.count("\n") == 1 and named.out == ""
