"""A job's history and attempts, a project's jobs over time and its failures by cause:
the library calls behind the web view, from Python against the embedded grid."""

from __future__ import annotations

from gb2.client.diracx import DiracX
from gb2.jobs.clusters import failure_clusters
from gb2.jobs.history import attempts, job_history
from gb2.jobs.status import Selection, counts_by
from gb2.jobs.timeline import project_timeline
from tests.cli import UUBAR, finished_good_and_bad, submit
from tests.helpers import flaky_steering


def test_history_splits_into_attempts_at_a_reschedule(grid, tmp_path):
    [job] = submit(grid, "twice", flaky_steering(tmp_path), "-i", f"{UUBAR}/sub00", "-n", "3")
    grid.wait_project("twice")
    assert grid.run("gb2_job_reschedule", "-p", "twice", "--force").code == 0
    assert grid.wait_project("twice") == {"Done": 1}
    dx: DiracX = grid.dx
    history = job_history(dx, job)
    assert history[0].status == "Received" and history[-1].status == "Done"
    assert all(a.time <= b.time for a, b in zip(history, history[1:], strict=False))
    first, second = attempts(history)
    assert (first.number, second.number) == (0, 1)
    assert first.last.status == "Failed" and second.records[0].minor_status == "Job Rescheduled"
    assert job_history(dx, 999_999) == []


def test_timeline_clusters_and_sites_of_finished_projects(grid, tmp_path):
    ok, bad = finished_good_and_bad(grid, tmp_path, "tl_ok", "tl_bad")
    dx = grid.dx
    timeline = project_timeline(dx, Selection("alice", projects=("tl_ok",)), points=40)
    assert len(timeline.times) == 40 and timeline.times == sorted(timeline.times)
    last = {c: v[-1] for c, v in timeline.counts.items()}
    assert last == {"Waiting": 0, "Running": 0, "Done": 3, "Failed": 0}
    assert max(timeline.counts["Running"]) <= 2  # the grid has two job slots
    assert timeline.counts["Waiting"][0] + timeline.counts["Running"][0] == 3  # all three submitted at once
    assert all(sum(timeline.counts[c][i] for c in timeline.counts) == 3 for i in range(40))
    failed = project_timeline(dx, Selection("alice", projects=("tl_bad",)))
    assert failed.counts["Failed"][-1] == 1 and failed.counts["Done"][-1] == 0
    assert project_timeline(dx, Selection("alice", projects=("nothing",))).empty

    [group] = failure_clusters(dx, Selection("alice", projects=("tl_bad",)), user="alice").clusters
    assert (group.cause, group.count, group.examples, group.deterministic) == ("analysis", 1, bad, True)
    assert group.signature.lines == ("RuntimeError: broken analysis",) and group.signature.exit_code == 1
    assert group.command == ["gb2_diagnostic", "--failed_job", str(bad[0])]
    assert failure_clusters(dx, Selection("alice", projects=("tl_ok",))).clusters == []

    sites = counts_by(dx, Selection("alice", projects=("tl_ok",)), "Site")
    assert sum(n for per in sites.values() for n in per.values()) == 3
    assert {s for per in sites.values() for s in per} == {"Done"}
