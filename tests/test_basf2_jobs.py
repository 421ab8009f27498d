"""basf2 jobs through the Python API: outputs registered with true checksums, failures told apart."""

from __future__ import annotations

from pathlib import Path

import httpx

from gb2.data.checksum import adler32_file
from gb2.jobs import project
from gb2.session import Session
from gb2.standin.eventfile import count_events
from tests.cli import EXAMPLES, UUBAR
from tests.helpers import flaky_steering

RELEASE = "light-2511-gacrux"


def submit(session: Session, name: str, steering: Path, **options) -> list[int]:
    plan = project.make_plan(session, project.Request(steering=steering, project=name, release=RELEASE, **options))
    return project.submit(session, plan).job_ids


def job(session: Session, job_id: int) -> dict:
    return session.diracx.search(
        ["JobID", "Status", "MinorStatus", "ApplicationStatus", "RescheduleCounter"],
        [{"parameter": "JobID", "operator": "eq", "value": job_id}],
    ).rows[0]


def test_outputs_are_registered_with_the_files_true_checksums(grid, tmp_path):
    session = Session.open("test")
    ids = submit(session, "skim", EXAMPLES / "skim_udst.py", inputs=[UUBAR])
    assert grid.wait_project("skim") == {"Done": 3}
    files = list(session.rucio.resolve("/belle/user/alice/skim"))
    assert len(files) == 3
    for f in files:
        assert f.name.endswith(".udst.root") and "/sub00/skim_0000" in f.name
        assert any(f"_job{i}_00." in f.name for i in ids)
        url = next(u for urls in f.pfns.values() for u in urls if u.startswith("http"))
        data = httpx.get(url, headers={"Authorization": f"Bearer {session.diracx.access_token()}"}).content
        local = tmp_path / f.name.rsplit("/", 1)[1]
        local.write_bytes(data)
        assert adler32_file(local) == f.adler32 and len(data) == f.bytes
        assert count_events(local) == f.events
    meta = session.rucio.get_metadata(*session.rucio.did(files[0].name), plugin="JSON")
    assert meta["job_id"] in ids
    assert {j["Status"] for j in (job(session, i) for i in ids)} == {"Done"}
    assert job(session, ids[0])["ApplicationStatus"] == "Done"


def test_application_failures_say_what_basf2_said(grid, tmp_path):
    session = Session.open("test")
    raises = tmp_path / "raises.py"
    raises.write_text("import basf2\nraise ValueError('cut string is wrong')\n")
    unknown = tmp_path / "unknown_module.py"
    unknown.write_text("import basf2\np = basf2.create_path()\np.add_module('NoSuchModule')\nbasf2.process(p)\n")
    a = submit(session, "fail1", raises)[0]
    b = submit(session, "fail2", unknown)[0]
    grid.wait_project("fail1")
    grid.wait_project("fail2")
    for job_id, message in ((a, "cut string is wrong"), (b, "NoSuchModule")):
        row = job(session, job_id)
        assert (row["Status"], row["MinorStatus"]) == ("Failed", "Application Finished With Errors")
        assert row["ApplicationStatus"].startswith("basf2 failed (exit status 1)")
        assert message in row["ApplicationStatus"]
    logs = tmp_path / "logs"
    from gb2.jobs.sandbox import extract_archive

    pfn = session.diracx.job_sandbox(b, "output")[0]
    names = extract_archive(session.diracx.download_sandbox("SB:SandboxSE|" + pfn), logs)
    assert {"std.out", "std.err", "job.info", "Script1_basf2helper.py.log"} <= set(names)
    assert "NoSuchModule" in (logs / "Script1_basf2helper.py.log").read_text()


def test_rescheduled_job_writes_the_next_generation(grid, tmp_path):
    session = Session.open("test")
    steering = flaky_steering(tmp_path)
    job_id = submit(session, "flaky", steering, inputs=[f"{UUBAR}/sub00"], files_per_job=3)[0]
    grid.wait_project("flaky")
    assert job(session, job_id)["Status"] == "Failed"
    session.diracx.reschedule([job_id])
    assert grid.wait_project("flaky") == {"Done": 1}
    row = job(session, job_id)
    assert row["RescheduleCounter"] == 1
    names = [f.name for f in session.rucio.resolve("/belle/user/alice/flaky")]
    assert names == [f"/belle/user/alice/flaky/sub00/pions_00000_job{job_id}_01.root"]
