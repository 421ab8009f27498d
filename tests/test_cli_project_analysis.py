"""gb2_project_analysis: the Status → MinorStatus → ApplicationStatus → Site tree."""

from __future__ import annotations

from tests.cli import finished_good_and_bad


def test_tree_of_a_mixed_selection(grid, tmp_path):
    finished_good_and_bad(grid, tmp_path, "tree_ok", "tree_bad", "--repetition", "2", message="cut string is wrong")

    r = grid.run("gb2_project_analysis", "-p", "tree_ok", "tree_bad")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == "5 jobs are selected."
    assert lines[1:4] == ["Done (3)", "    Execution Complete (3)", "        Done (3)"]
    site_lines = [line for line in lines[4:] if line.startswith(" " * 12)]
    assert sum(int(line.rsplit(" : ", 1)[1]) for line in site_lines) == 5
    failed = lines.index("Failed (2)")
    assert lines[failed + 1] == "    Application Finished With Errors (2)"
    assert lines[failed + 2].startswith("        basf2 failed (exit status 1)") and "cut string is wrong" in lines[failed + 2]

    tree = grid.run("gb2_project_analysis", "-p", "tree_bad", "--json").json()
    assert (tree["selection"], tree["count"]) == ("all", 2)
    [status] = tree["children"]
    assert (status["status"], status["count"]) == ("Failed", 2)
    [minor] = status["children"]
    [app] = minor["children"]
    assert minor["minor_status"] == "Application Finished With Errors" and app["count"] == 2
    assert sum(site["count"] for site in app["children"]) == 2 and all("site" in s for s in app["children"])

    only_done = grid.run("gb2_project_analysis", "-p", "tree_ok", "tree_bad", "--status", "Done", "--json").json()
    assert only_done["count"] == 3 and [c["status"] for c in only_done["children"]] == ["Done"]
    empty = grid.run("gb2_project_analysis", "-p", "tree_ok", "--status", "Killed")
    assert empty.code == 0 and empty.out == "0 jobs are selected.\n"
    missing = grid.run("gb2_project_analysis", "-p", "no_such_project")
    assert (missing.code, missing.out) == (5, "") and "no project no_such_project" in missing.err


def test_bad_input(grid):
    for args, message in ((["-j", "x1"], "not a number"), (["--status", "Asleep"], "unknown status")):
        r = grid.run("gb2_project_analysis", *args)
        assert r.code == 2 and message in r.err and r.err.count("\n") == 1
