"""gb2_se_list against the embedded grid's four storage elements."""

from __future__ import annotations

from gb2.server.topology import STORAGE_ELEMENTS
from tests.cli import UUBAR


def test_lists_every_se_with_kind_site_and_usage(grid):
    r = grid.run("gb2_se_list")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].split() == ["SE", "Kind", "Site", "City", "Used", "Files"] and set(lines[1]) == {"="}
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert set(rows) == {se.name for se in STORAGE_ELEMENTS}
    for se in STORAGE_ELEMENTS:
        assert rows[se.name][1:4] == [se.kind, se.site, se.city]

    ses = {s["name"]: s for s in grid.run("gb2_se_list", "--json").json()["storage_elements"]}
    # the seeded uubar files live on both KEK and DESY DATA SEs
    listed = grid.run("gb2_ds_list", "-lg", f"{UUBAR}/sub00", "--json").json()["entries"]
    on_kek = [e for e in listed if "KEK-DATA-SE" in (e.get("ses") or [])]
    assert ses["KEK-DATA-SE"]["files"] >= len(on_kek) > 0 and ses["KEK-DATA-SE"]["used_bytes"] > 0
    assert ses["KEK-TMP-DISK-SE"]["for_user_data"] and not ses["KEK-DATA-SE"]["for_user_data"]

    tmp = grid.run("gb2_se_list", "type=TMP", "--json").json()["storage_elements"]
    assert sorted(s["name"] for s in tmp) == sorted(se.name for se in STORAGE_ELEMENTS if se.kind == "TMP")


def test_bad_expression_is_one_line(grid):
    r = grid.run("gb2_se_list", "type=(")
    assert r.code in (2, 7) and "RSE Expression" in r.err and r.err.count("\n") == 1
