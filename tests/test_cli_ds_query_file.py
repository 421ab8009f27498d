"""gb2_ds_query_file: per-file metadata lines, against the seeded catalogue and a project's outputs."""

from __future__ import annotations

import re

from gb2.server.rucio.seed import UUBAR
from tests.cli import EXAMPLES, submit


def test_seeded_files(grid):
    r = grid.run("gb2_ds_query_file", f"{UUBAR.lpn}/sub*/*.root", "-m", "nEvents,lfn,ses")
    assert r.code == 0, r.err
    expected = dict(UUBAR.files())
    lines = r.out.splitlines()
    assert len(lines) == len(expected)
    for line in lines:
        lfn, events, ses = line.split(" | ")
        assert events == f"nEvents: {expected[lfn]}"
        assert ses == "ses: " + ",".join(sorted(UUBAR.rses))
    rows = grid.run("gb2_ds_query_file", UUBAR.lpn, "--json").json()["files"]
    assert [row["lfn"] for row in rows] == sorted(expected) and set(rows[0]) == {"lfn", "nEvents", "size", "adler32"}
    sizes = {e["lfn"]: e["bytes"] for e in grid.run("gb2_ds_list", "-l", f"{UUBAR.lpn}/sub00", "--json").json()["entries"]}
    assert {row["lfn"]: row["size"] for row in rows} == sizes
    assert all(re.fullmatch(r"[0-9a-f]{8}", row["adler32"]) for row in rows)


def test_job_ids_of_project_outputs(grid):
    jobs = submit(grid, "qf", EXAMPLES / "mc_generation.py", "--repetition", "2")
    grid.wait_project("qf")
    rows = grid.run("gb2_ds_query_file", "qf", "-m", "lfn,jobId", "--json").json()["files"]
    assert sorted(row["jobId"] for row in rows) == sorted(jobs)
    for row in rows:
        assert f"_job{row['jobId']}_00." in row["lfn"]


def test_bad_input(grid):
    for args, code, message in (
        ([UUBAR.lpn, "-m", "nEvents,colour"], 2, "unknown metadata key 'colour'"),
        (["/belle/user/alice/never_made"], 5, "no such dataset"),
        ([], 2, "Missing argument"),
    ):
        r = grid.run("gb2_ds_query_file", *args)
        assert r.code == code and message in r.err, (args, r.code, r.err)
        assert r.err.count("\n") == 1
