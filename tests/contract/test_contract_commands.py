"""gb2's commands against the real servers, through a profile that points at them.

The user logs in with gb2_proxy_init (device flow through the identity provider),
finds the input with gb2_ds_search, lists storage elements with gb2_se_list, submits with gbasf2 (the jobs land in real DiracX's job database), follows them
with gb2_job_status, lists with gb2_ds_list and gb2_ds_query_file, replicates with gb2_ds_rep, downloads with gb2_ds_get from real
Rucio and removes the project with gb2_ds_rm. Real DiracX runs no jobs, so the test plays the job wrapper in between:
it moves the jobs to Done and registers their outputs, as gb2's engine would.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gb2.client.diracx import DiracX
from gb2.client.rucio import RucioClient
from gb2.client.tokens import TokenStore
from gb2.config import Config, Profile
from gb2.data.checksum import adler32_file
from gb2.data.register import register_outputs
from tests.contract.targets import DiracXTarget, run_id

BIN = Path(sys.executable).parent
EXAMPLES = Path(__file__).resolve().parents[2] / "steering_examples"
RELEASE = "light-2511-gacrux"


@pytest.fixture(scope="module")
def user(real_diracx, real_rucio, tmp_path_factory):
    """A shell for alice: isolated gb2 dirs and a profile "real" pointing at both servers."""
    return shell(real_diracx, real_rucio, tmp_path_factory.mktemp("real-profile"))


def shell(real_diracx, real_rucio, home: Path) -> dict:
    """alice's gb2 on one machine: its own config, token cache and data dirs, a profile "real"."""
    env = {**os.environ, "GB2_CONFIG_DIR": str(home / "config"), "GB2_CACHE_DIR": str(home / "cache"),
           "GB2_DATA_DIR": str(home / "data"), "GB2_PROFILE": "real", "GB2_TEST_RUCIO_PW": real_rucio.alice.password}  # fmt: skip
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update({k: env[k] for k in ("GB2_CONFIG_DIR", "GB2_CACHE_DIR", "GB2_DATA_DIR")})
    config = Config()
    config.profiles["real"] = Profile("real", "remote", diracx_url=real_diracx.url, rucio_url=real_rucio.url,
                                      rucio_auth="userpass", rucio_account="alice", rucio_username="alice",
                                      rucio_password_env="GB2_TEST_RUCIO_PW")  # fmt: skip
    config.active_profile = "real"
    config.save()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    return {"env": env, "home": home}


def gb2(user, *args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    tool, *rest = args
    return subprocess.run([str(BIN / tool), *rest], env=user["env"], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip


def proxy_init(user, real_diracx, folder: Path) -> DiracX:
    """gb2_proxy_init as a user runs it: the link is opened by the 'browser'."""
    err = folder / "stderr.txt"
    browser = DiracXTarget("real", real_diracx.url, real_diracx.idp_url, err.parent).browser("alice")

    def open_link() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            match = re.search(r"\(or open (\S+)\)", err.read_text() if err.exists() else "")
            if match:
                browser({"verification_uri_complete": match.group(1)})
                return
            time.sleep(0.05)

    threading.Thread(target=open_link, daemon=True).start()
    with open(err, "w") as stderr:
        proc = subprocess.run([str(BIN / "gb2_proxy_init"), "-g", "belle"], env=user["env"], stdout=subprocess.PIPE,
                              stderr=stderr, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, err.read_text()
    assert "Username is alice" in proc.stdout and "DIRAC group : belle" in proc.stdout
    store = TokenStore(Path(user["env"]["GB2_CACHE_DIR"]) / "tokens" / "real.json")
    return DiracX(real_diracx.url, store)


@pytest.fixture(scope="module")
def logged_in(user, real_diracx, tmp_path_factory):
    return proxy_init(user, real_diracx, tmp_path_factory.mktemp("login"))


@pytest.fixture(scope="module")
def official_dataset(real_rucio, tmp_path_factory):
    """An official MC dataset in real Rucio, registered by root on the DATA storage element."""
    root = RucioClient(real_rucio.url, account=real_rucio.root.account, username=real_rucio.root.username,
                       password=real_rucio.root.password)  # fmt: skip
    lpn = f"/belle/MC/release-06-00-08/DB00002100/MC15ri_b/prod{run_id()}/s00/e1003/4S/r00000/uubar/mdst"
    data_rse = next(n for n, s in real_rucio.rses.items() if not s["user_writable"])
    root.add_container(root.did(lpn).scope, lpn, meta={"data_type": "mc", "experiment": 1003})
    root.add_dataset(root.did(lpn).scope, f"{lpn}/sub00")
    root.attach(root.did(lpn).scope, lpn, [root.did(f"{lpn}/sub00")])
    source = tmp_path_factory.mktemp("mdst")
    files = []
    for i in range(2):
        path = source / f"mdst_{i + 1:06d}_prod1_task1.root"
        path.write_bytes(os.urandom(3000))
        files.append((path, f"{lpn}/sub00/{path.name}", 100))
    register_outputs(root, data_rse, files)
    return lpn


def test_gb2_commands_against_the_real_servers(user, logged_in, official_dataset, real_rucio, tmp_path):
    info = gb2(user, "gb2_proxy_info", "--json")
    assert info.returncode == 0 and '"username":"alice"' in info.stdout.replace(" ", "")

    found = gb2(user, "gb2_ds_search", "dataset", "--data_type", "mc", "--exp", "1000-1003")
    assert found.returncode == 0 and f"\t{official_dataset}" in found.stdout.splitlines(), found.stdout + found.stderr

    ses = json.loads(gb2(user, "gb2_se_list", "--json").stdout)["storage_elements"]
    assert {se["name"] for se in ses} == set(real_rucio.rses)

    project = f"real{run_id()}"
    submitted = gb2(user, "gbasf2", str(EXAMPLES / "ntuple_analysis.py"), "-p", project, "-s", RELEASE,
                    "-i", official_dataset, "--force", "--cputime", "20")  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    assert f"2 jobs submitted to project {project}" in submitted.stdout

    status = gb2(user, "gb2_job_status", "-p", project)
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[0] == "2 jobs are selected."
    assert "Completed:0 Deleted:0 Done:0 Failed:0 Killed:0 Running:0 Scouting:0 Stalled:0 Waiting:2" in status.stdout

    # The job wrapper's part (real DiracX runs no jobs): run, write outputs, register them.
    alice = logged_in
    jobs = list(alice.iter_search(["JobID", "JobName"], [{"parameter": "JobGroup", "operator": "eq", "value": project}]))
    rucio = RucioClient(real_rucio.url, account="alice", username="alice", password=real_rucio.alice.password)
    outputs = []
    for job in jobs:
        for state in ("Checking", "Waiting", "Matched", "Running", "Completing"):
            alice.set_job_status([job["JobID"]], status=state, source="JobWrapper")
        index = int(job["JobName"].rsplit("_", 1)[1])
        path = tmp_path / f"ntuple_{index}.root"
        path.write_bytes(os.urandom(4000 + index))
        outputs.append((path, f"/belle/user/alice/{project}/sub00/ntuple_{index:05d}_job{job['JobID']}_00.root", 42))
    register_outputs(rucio, real_rucio.user_rses[0], outputs, job_id=jobs[0]["JobID"])
    alice.set_job_status([j["JobID"] for j in jobs], status="Done", minor="Execution Complete",
                         application="Done", source="JobWrapper")  # fmt: skip

    summary = gb2(user, "gb2_project_summary", "-p", project, "--json")
    assert summary.returncode == 0, summary.stderr
    assert '"status":"Done"' in summary.stdout and '"done":2' in summary.stdout

    listing = gb2(user, "gb2_ds_list", project)
    assert listing.stdout.split() == [f"/belle/user/alice/{project}/sub00"]
    files = gb2(user, "gb2_ds_list", "-lg", f"{project}/sub00")
    assert files.returncode == 0, files.stderr
    assert all(lfn in files.stdout for _, lfn, _ in outputs)
    assert f"{real_rucio.user_rses[0]}: replica" in files.stdout

    here, elsewhere = real_rucio.user_rses[0], real_rucio.user_rses[1]
    assert gb2(user, "gb2_ds_rep", project, "-d", here, "--force").returncode == 0
    status = gb2(user, "gb2_ds_rep_status", project, "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["rules"][0]["state"] == "OK", status.stdout
    # A copy to the other SE waits for Rucio's transfer daemons (and FTS), which do not run here.
    assert gb2(user, "gb2_ds_rep", project, "-d", elsewhere, "--force").returncode == 0
    status = gb2(user, "gb2_ds_rep_status", project, "--json")
    states = {r["se"]: (r["state"], r["replicating"]) for r in json.loads(status.stdout)["rules"]}
    assert status.returncode == 1 and states[elsewhere] == ("REPLICATING", len(outputs)), status.stdout

    queried = gb2(user, "gb2_ds_query_file", project, "-m", "lfn,size,jobId", "--json")
    assert queried.returncode == 0, queried.stderr
    assert sorted((f["lfn"], f["size"], f["jobId"]) for f in json.loads(queried.stdout)["files"]) == sorted(
        (lfn, path.stat().st_size, jobs[0]["JobID"]) for path, lfn, _ in outputs)

    get = gb2(user, "gb2_ds_get", project, "--force", "--failed_lfns", "failed.txt", cwd=tmp_path)
    assert get.returncode == 0, get.stdout + get.stderr
    assert "download complete: every file is present and verified" in get.stdout
    for path, lfn, _ in outputs:
        local = tmp_path / project / "sub00" / lfn.rsplit("/", 1)[1]
        assert adler32_file(local) == adler32_file(path)
    assert (tmp_path / "failed.txt").read_text() == ""

    removed = gb2(user, "gb2_ds_rm", project, "--force")
    assert removed.returncode == 0 and "Removed" in removed.stdout, removed.stdout + removed.stderr
    # Real Rucio deletes expired DIDs in its undertaker daemon, which runs every few
    # minutes: it stores expiry to the second, and a container goes one pass after the
    # datablock inside it (checked here: two passes).
    for _ in range(3):
        time.sleep(1.1)
        real_rucio.run_daemon("rucio-undertaker")
        gone = gb2(user, "gb2_ds_list", project)
        if gone.returncode == 5:
            break
    assert gone.returncode == 5, gone.stdout + gone.stderr


def one_failed_one_running(user, alice: DiracX, project: str, tmp_path: Path, message: str) -> list[int]:  # type: ignore[no-untyped-def]
    """A project of three jobs submitted with gbasf2; then the job wrapper's part (real DiracX runs
    no jobs): the first fails and leaves a log saying ``message``, the second runs, the third waits."""
    from gb2.jobs.sandbox import make_archive

    submitted = gb2(user, "gbasf2", str(EXAMPLES / "mc_generation.py"), "-p", project, "-s", RELEASE,
                    "--repetition", "3", "--force", "--json")  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    failed, running, waiting = json.loads(submitted.stdout)["job_ids"]
    log = tmp_path / "Script1_basf2helper.py.log"
    log.write_text(f"[FATAL] RuntimeError: {message}\n")
    pfn = alice.upload_sandbox(make_archive([(log, log.name)]))
    for state in ("Checking", "Waiting", "Matched", "Running"):
        alice.set_job_status([failed, running], status=state, source="JobWrapper")
    alice.set_job_status([failed], status="Failed", minor="Application Finished With Errors", source="JobWrapper")
    alice.assign_output_sandbox(failed, pfn)
    return [failed, running, waiting]


def test_job_control_commands_against_real_diracx(user, logged_in, tmp_path):
    """gb2_job_output, gb2_job_reschedule, gb2_job_kill, gb2_project_analysis and gb2_job_delete on real DiracX."""
    project = f"ctl{run_id()}"
    alice = logged_in
    failed, running, waiting = one_failed_one_running(user, alice, project, tmp_path, "broken analysis")
    log = tmp_path / "Script1_basf2helper.py.log"

    logs = gb2(user, "gb2_job_output", "-p", project, "--status", "Failed", "--dir", str(tmp_path), "--json")
    assert logs.returncode == 0, logs.stdout + logs.stderr
    assert "broken analysis" in (tmp_path / "log" / project / str(failed) / log.name).read_text()

    resched = gb2(user, "gb2_job_reschedule", "-p", project, "--force", "--json")
    assert resched.returncode == 0, resched.stdout + resched.stderr
    assert f'"job_ids":[{failed}]' in resched.stdout.replace(" ", "")
    counter = next(alice.iter_search(["RescheduleCounter"], [{"parameter": "JobID", "operator": "eq", "value": failed}]))
    assert counter["RescheduleCounter"] == 1  # DiracX 0.7 leaves the job Failed (see the DiracX contract)

    killed = gb2(user, "gb2_job_kill", "-j", str(running), str(waiting), "--force")
    assert killed.returncode == 0 and "Killed 2 jobs" in killed.stdout, killed.stdout + killed.stderr
    tree = json.loads(gb2(user, "gb2_project_analysis", "-p", project, "--json").stdout)
    assert tree["count"] == 3 and {c["status"]: c["count"] for c in tree["children"]} == {"Failed": 1, "Killed": 2}
    deleted = gb2(user, "gb2_job_delete", "-p", project, "--force")
    assert deleted.returncode == 0 and "Deleted 3 jobs" in deleted.stdout, deleted.stdout + deleted.stderr
    status = gb2(user, "gb2_job_status", "-p", project)
    assert "Deleted:3" in status.stdout, status.stdout


def test_b2luigi_dirac_apis_against_the_real_servers(user, logged_in, real_rucio, tmp_path):
    """What b2luigi's helper scripts ask through gb2's DIRAC and BelleDIRAC modules
    (gb2.gbasf2_env): the login, a project's jobs, the files of a project or a glob."""
    from gb2.gbasf2_env import COMPAT_DIR
    from tests.helpers import B2LUIGI_HELPER_CALLS

    project = f"b2l{run_id()}"
    submitted = gb2(user, "gbasf2", str(EXAMPLES / "mc_generation.py"), "-p", project, "-s", RELEASE,
                    "--repetition", "2", "--force", "--json")  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    done, failed = json.loads(submitted.stdout)["job_ids"]
    alice = logged_in
    for state in ("Checking", "Waiting", "Matched", "Running"):
        alice.set_job_status([done, failed], status=state, source="JobWrapper")
    alice.set_job_status([failed], status="Failed", minor="Application Finished With Errors", source="JobWrapper")
    # Two generations of one output, as a rescheduled job leaves them: b2luigi wants both listed.
    rucio = RucioClient(real_rucio.url, account="alice", username="alice", password=real_rucio.alice.password)
    outputs = []
    for generation in (0, 1):
        path = tmp_path / f"mc_{generation}.root"
        path.write_bytes(os.urandom(3000 + generation))
        outputs.append((path, f"/belle/user/alice/{project}/sub00/mc_00000_job{done}_{generation:02d}.root", 10))
    register_outputs(rucio, real_rucio.user_rses[0], outputs, job_id=done)
    alice.set_job_status([done], status="Done", minor="Execution Complete", application="Done", source="JobWrapper")

    helper = tmp_path / "helper.py"
    helper.write_text(B2LUIGI_HELPER_CALLS)
    env = {**user["env"], "PYTHONPATH": str(COMPAT_DIR)}

    def call(*args: str) -> dict:
        r = subprocess.run([sys.executable, str(helper), *args], env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    proxy = call("proxy")
    assert proxy["OK"] and proxy["Value"]["username"] == "alice" and proxy["Value"]["secondsLeft"] > 0
    jobs = call("jobs", project, "alice")["Value"]
    assert {k: (v["Status"], v["ApplicationStatus"]) for k, v in jobs.items()} == {
        str(done): ("Done", "Done"), str(failed): ("Failed", jobs[str(failed)]["ApplicationStatus"])}
    assert call("jobs", f"none{run_id()}", "alice")["OK"] is False
    lfns = sorted(lfn for _, lfn, _ in outputs)
    assert call("lfns", project, "alice")["Value"] == lfns
    assert call("lfns", f"/belle/user/alice/{project}/sub*/mc_*.root", "alice")["Value"] == lfns
    assert call("lfns", f"/belle/user/alice/{project}/sub*/other_*.root", "alice") == {"OK": True, "Value": []}


def test_releases_and_output_location_against_the_real_servers(user, logged_in, official_dataset, real_diracx):
    """What the real servers can and cannot tell gb2 about releases and write access.

    Real DiracX 0.7 serves its configuration at /api/config/ to a logged-in user, but its
    schema has no place for a list of basf2 releases (Operations forbids unknown keys):
    gb2_check_release says the grid publishes none (exit 5, one line), and gbasf2 -s checks
    only the form of the name, with a note in the plan. Real Rucio 41 tells which scopes
    alice owns, so an --output_ds she may not write is refused while planning (exit 4).
    """
    config = logged_in.config()  # the route gb2 reads the release list from
    assert "Operations" in config and real_diracx.vo in config["Operations"]
    assert "SoftwareReleases" not in config["Operations"][real_diracx.vo]

    listing = gb2(user, "gb2_check_release", "--json")
    assert listing.returncode == 5 and listing.stderr.count("\n") == 1, listing.stderr
    assert "publishes no list of basf2 releases" in listing.stderr
    data = json.loads(listing.stdout)
    assert data == {"source": f"{real_diracx.url}/api/config/", "published": False, "releases": []}
    one = gb2(user, "gb2_check_release", RELEASE)
    assert one.returncode == 5 and f"{RELEASE} cannot be checked" in one.stderr, one.stderr
    assert gb2(user, "gb2_check_release", "not a release").returncode == 2

    project = f"rel{run_id()}"
    plan = gb2(user, "gbasf2", str(EXAMPLES / "ntuple_analysis.py"), "-p", project, "-s", RELEASE,
               "-i", official_dataset, "--dryrun", "--json")  # fmt: skip
    assert plan.returncode == 0, plan.stderr
    assert any("publishes no list of basf2 releases" in note for note in json.loads(plan.stdout)["notes"])
    wrong = gb2(user, "gbasf2", str(EXAMPLES / "ntuple_analysis.py"), "-p", project, "-s", "release-8-1-3",
                "-i", official_dataset, "--dryrun")  # fmt: skip
    assert wrong.returncode == 2 and "not a basf2 release name" in wrong.stderr

    for output, scope in (("/belle/group/physics/x", "group"), ("/belle/user/bob/x", "user.bob")):
        refused = gb2(user, "gbasf2", str(EXAMPLES / "ntuple_analysis.py"), "-p", project, "-s", RELEASE,
                      "-i", official_dataset, "--output_ds", output, "--dryrun")  # fmt: skip
        assert refused.returncode == 4 and refused.stderr.count("\n") == 1, refused.stderr
        assert f"scope '{scope}'" in refused.stderr and "user.alice" in refused.stderr
    assert logged_in.search(["JobID"], [{"parameter": "JobGroup", "operator": "eq", "value": project}]).total == 0


# -- scouting on a DiracX that has none: gb2 holds the jobs, any machine releases them ------------------------


def play_scout(alice: DiracX, job_id: int, tmp_path: Path, output_se: str, *, ok: bool = True, events: int = 10) -> None:
    """The job wrapper's part for a scout (real DiracX runs no jobs): gb2's job helper really runs the
    scout (basf2 or the stand-in, no server), its output sandbox goes to DiracX, the job ends."""
    from gb2.engine.basf2helper import basf2_command
    from gb2.jobs.sandbox import make_archive

    for state in ("Checking", "Waiting", "Matched", "Running"):
        alice.set_job_status([job_id], status=state, source="JobWrapper")
    work = tmp_path / f"scout{job_id}"
    work.mkdir()
    steering = EXAMPLES / "mc_generation.py"
    if not ok:
        steering = work / "broken.py"
        steering.write_text("import basf2\nraise RuntimeError('broken analysis')\n")
    (work / "job.info").write_text(json.dumps({"JobID": job_id, "Site": "LCG.KEK.jp", "OutputSE": output_se,
                                               "InputData": []}))  # fmt: skip
    env = {**os.environ, "GB2_JOB_INFO": str(work / "job.info"), "GB2_BASF2_COMMAND": json.dumps(basf2_command(None))}
    helper = subprocess.run([sys.executable, "-m", "gb2.engine.basf2helper", "--steering", str(steering),
                             "--output-lpn", "/belle/user/alice/x", "--index", "0", "--basf2opt", "-n 20",
                             "--scout-events", str(events), "--local"], cwd=work, env=env, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert (helper.returncode == 0) == ok, helper.stdout + helper.stderr
    files = [(work / name, name) for name in ("gb2_usage.json", "Script1_basf2helper.py.log") if (work / name).exists()]
    alice.assign_output_sandbox(job_id, alice.upload_sandbox(make_archive(files)))
    if ok:
        alice.set_job_status([job_id], status="Done", minor="Execution Complete", application="Done", source="JobWrapper")
    else:
        alice.set_job_status([job_id], status="Failed", minor="Application Finished With Errors",
                             application="basf2 failed (exit status 1): RuntimeError: broken analysis",
                             source="JobWrapper")  # fmt: skip


def jobs_in(alice: DiracX, project: str) -> list[dict]:
    return list(alice.iter_search(["JobID", "JobName", "Status"], [{"parameter": "JobGroup", "operator": "eq",
                                                                  "value": project}]))  # fmt: skip


def test_scouted_jobs_cannot_run_before_the_scouts_pass_on_real_diracx(user, logged_in, real_diracx, real_rucio,
                                                                     tmp_path_factory, tmp_path):  # fmt: skip
    """The guarantee on a real DiracX 0.7: until every scout is Done, the project's other jobs do
    not exist in DiracX, so nothing can run them; their plan is on the servers (a DiracX sandbox
    named by the project's record in Rucio), so another machine's first look releases them, once;
    a second look, or a release cut short and finished elsewhere, adds or doubles nothing."""
    alice = logged_in
    laptop2 = shell(real_diracx, real_rucio, tmp_path_factory.mktemp("laptop2"))
    proxy_init(laptop2, real_diracx, tmp_path_factory.mktemp("login2"))
    se = real_rucio.user_rses[0]

    project = f"sc{run_id()}"
    submitted = gb2(user, "gbasf2", str(EXAMPLES / "mc_generation.py"), "-p", project, "-s", RELEASE,
                    "--repetition", "6", "--basf2opt", "-n 20", "--force", "--json")  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    sub = json.loads(submitted.stdout)
    assert sub["scouting"]["mode"] == "held" and sub["held"] == 6 and sub["job_ids"] == []
    assert sorted(j["JobName"] for j in jobs_in(alice, project)) == [f"{project}_scout00", f"{project}_scout01"]
    record = RucioClient(real_rucio.url, account="alice", username="alice", password=real_rucio.alice.password
                         ).get_metadata("user.alice", f"/belle/user/alice/{project}", plugin="JSON")["gb2_scouting"]
    assert json.loads(record)["held"].startswith("SB:") and json.loads(record)["state"] == "scouting"

    # The laptop that submitted is closed; another machine looks while the scouts run: nothing is released.
    look = gb2(laptop2, "gb2_job_status", "-p", project, "--json")
    assert look.returncode == 0, look.stderr
    assert json.loads(look.stdout)["summary"]["Scouting"] == 6 and len(jobs_in(alice, project)) == 2
    scouts = sorted(sub["scout_ids"])
    play_scout(alice, scouts[0], tmp_path, se, events=5)
    assert json.loads(gb2(laptop2, "gb2_job_status", "-p", project, "--json").stdout)["selected"] == 2
    play_scout(alice, scouts[1], tmp_path, se)

    # Both scouts Done: the other machine's next look releases the six jobs, with the report and forecast.
    look = gb2(laptop2, "gb2_project_summary", "-p", project, "--json")
    assert look.returncode == 0, look.stderr
    view = json.loads(look.stdout)["projects"][0]["scouts"]
    assert view["state"] == "released" and view["released_now"] == 6
    assert [s["events"] for s in view["report"]["scouts"]] == [5, 10]
    assert view["forecast"]["jobs"] == 6 and view["forecast"]["events_per_job_max"] == 20
    assert view["forecast"]["cpu_hours"] > 0 and se in view["forecast"]["quota_remaining"]
    again = json.loads(gb2(user, "gb2_job_status", "-p", project, "--json").stdout)
    assert again["scouting"][project]["released_now"] == 0 and again["selected"] == 8
    names = [j["JobName"] for j in jobs_in(alice, project)]
    assert len(names) == len(set(names)) == 8
    text = gb2(user, "gb2_job_status", "-p", project).stdout
    assert "Scout report (2 scout(s), 15 events):" in text and "Forecast for 6 job(s):" in text

    # A scout fails: nothing is ever submitted, and every view says which scout and why.
    bad = f"sf{run_id()}"
    sub = json.loads(gb2(user, "gbasf2", str(EXAMPLES / "mc_generation.py"), "-p", bad, "-s", RELEASE,
                         "--repetition", "5", "--force", "--json").stdout)  # fmt: skip
    play_scout(alice, sub["scout_ids"][0], tmp_path, se, ok=False)
    play_scout(alice, sub["scout_ids"][1], tmp_path, se)
    failed = json.loads(gb2(laptop2, "gb2_job_status", "-p", bad, "--json").stdout)
    assert failed["scouting"][bad]["state"] == "failed" and failed["summary"]["Failed"] == 6
    assert failed["scouting"][bad]["failed_scout"]["job_id"] == sub["scout_ids"][0]
    assert len(jobs_in(alice, bad)) == 2
    text = gb2(laptop2, "gb2_job_status", "-p", bad).stdout
    assert "5 job(s) held by gb2 were never submitted" in text and "broken analysis" in text


def test_a_release_cut_short_on_one_machine_is_finished_on_another(user, logged_in, real_diracx, real_rucio,
                                                                   tmp_path_factory, tmp_path):  # fmt: skip
    alice = logged_in
    laptop2 = shell(real_diracx, real_rucio, tmp_path_factory.mktemp("laptop3"))
    proxy_init(laptop2, real_diracx, tmp_path_factory.mktemp("login3"))
    project = f"cut{run_id()}"
    sub = json.loads(gb2(user, "gbasf2", str(EXAMPLES / "mc_generation.py"), "-p", project, "-s", RELEASE,
                         "--repetition", "300", "--basf2opt", "-n 20", "--force", "--json").stdout)  # fmt: skip
    for scout in sub["scout_ids"]:
        play_scout(alice, scout, tmp_path, real_rucio.user_rses[0])
    proc = subprocess.Popen([str(BIN / "gb2_job_status"), "-p", project], env=user["env"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    count = 2
    while count < 42 and time.monotonic() < deadline and proc.poll() is None:
        count = alice.search(["JobID"], [{"parameter": "JobGroup", "operator": "eq", "value": project}], per_page=1).total
    proc.kill()  # the laptop is closed in the middle of the release
    proc.wait()
    time.sleep(1.0)  # batches already sent are answered
    cut = len(jobs_in(alice, project))
    assert 2 < cut < 302, cut
    view = json.loads(gb2(laptop2, "gb2_job_status", "-p", project, "--json").stdout)["scouting"][project]
    assert view["released_now"] == 302 - cut and view["state"] == "released"
    live = [j["JobName"] for j in jobs_in(alice, project) if j["Status"] not in ("Killed", "Deleted")]
    assert len(live) == len(set(live)) == 302
