"""gb2_ds_rep and gb2_ds_rep_status on the embedded grid, whose rules copy at once."""

from __future__ import annotations

from gb2.server.rucio.seed import UUBAR
from tests.cli import EXAMPLES, submit


def test_replicate_a_project_and_follow_it(grid):
    submit(grid, "repme", EXAMPLES / "mc_generation.py", "--repetition", "2")
    grid.wait_project("repme")
    dest = "DESY-TMP-SE"

    none = grid.run("gb2_ds_rep_status", "repme")
    assert none.code == 1 and "No replication rule" in none.out

    r = grid.run("gb2_ds_rep", "repme", "-d", dest, "--force", "--json")
    assert r.code == 0, r.err
    rules = r.json()["rules"]
    assert list(rules) == ["/belle/user/alice/repme/sub00"]
    again = grid.run("gb2_ds_rep", "repme", "-d", dest, "--force", "--json").json()["rules"]
    assert again == rules  # asking twice reuses the rule

    status = grid.run("gb2_ds_rep_status", "repme")
    assert status.code == 0, status.out
    row = status.out.splitlines()[2].split()
    assert row[:3] == ["/belle/user/alice/repme/sub00", dest, "OK"] and row[3] == "2"
    after = grid.run("gb2_ds_list", "-lg", "repme/sub00", "--json").json()["entries"]
    assert all(dest in e["ses"] for e in after)


def test_refusals(grid):
    for args, message in (
        ([UUBAR.lpn, "-d", "KEK-DATA-SE", "-f"], "only to TMP ones"),
        ([UUBAR.lpn, "-d", "NOWHERE-SE", "-f"], "unknown storage element 'NOWHERE-SE'"),
        ([UUBAR.lpn, "-d", "DESY-TMP-SE", "-s", "ELSEWHERE", "-f"], "unknown storage element 'ELSEWHERE'"),
        ([UUBAR.lpn, "-d", "DESY-TMP-SE"], "--force"),
        ([UUBAR.lpn], "Missing option '-d'"),
    ):
        r = grid.run("gb2_ds_rep", *args)
        assert r.code == 2 and message in r.err, (args, r.err)
        assert r.err.count("\n") == 1
    assert grid.run("gb2_ds_rep_status", "/belle/user/alice/nothing").code == 5
