"""gb2_site_status: sites with their counts, failure rates, banned and flagged; storage elements
with their fill level; and gbasf2's plan leaving the flagged sites out."""

from __future__ import annotations

import time

from gb2.jobs import jdl
from gb2.server.rucio import replicas, rse_status
from tests.cli import EXAMPLES, FAST, RELEASE, SIGNAL, Grid, add_remote_profile

FAILS_AT_KEK = ("import os, runpy\nimport basf2\nif os.environ.get('DIRACSITE') == 'LCG.KEK.jp':\n"
                "    raise RuntimeError('broken at KEK')\n" f"runpy.run_path({str(EXAMPLES / 'mc_generation.py')!r})\n")


def test_site_flags_storage_flags_and_the_plan(server_factory, capsys, tmp_path):
    srv = server_factory(run_engine=True, workers=3, banned_sites={"OSG.BNL.us": "Downtime until Monday"}, **FAST)
    add_remote_profile("test", srv)
    grid = Grid(srv, "test", capsys)
    grid.login("alice")
    steering = tmp_path / "site.py"
    steering.write_text(FAILS_AT_KEK)
    for project, site, n in (("atkek", "LCG.KEK.jp", 6), ("atdesy", "LCG.DESY.de", 3), ("atkit", "LCG.KIT.de", 3)):
        r = grid.run("gbasf2", str(steering), "-p", project, "-s", RELEASE, "--site", site, "--repetition", str(n),
                     "--noscout", "--force")  # fmt: skip
        assert r.code == 0, r.err
    for project in ("atkek", "atdesy", "atkit"):
        grid.wait_project(project)

    rucio = srv.state.services["rucio"]
    # DESY-TMP-SE holds the outputs of the DESY jobs: make it 97 % full; KEK-TMP-DISK-SE is down for writing.
    desy_used = replicas.rse_usage(rucio, "DESY-TMP-SE")["used"]
    assert desy_used > 0
    srv.settings.storage_capacities["DESY-TMP-SE"] = int(desy_used / 0.97)
    rse_status.update_rse(rucio, None, "KEK-TMP-DISK-SE", {"availability_write": False})

    r = grid.run("gb2_site_status", "--json")
    assert r.code == 0, r.err
    health = r.json()
    sites = {s["site"]: s for s in health["sites"]}
    assert (sites["LCG.KEK.jp"]["failed"], sites["LCG.KEK.jp"]["ended"], sites["LCG.KEK.jp"]["failure_rate"]) == (6, 6, 1.0)
    assert sites["LCG.DESY.de"]["done"] == 3 and sites["LCG.DESY.de"]["failure_rate"] == 0.0
    assert health["median_failure_rate"] == 0.0
    assert sites["LCG.KEK.jp"]["flagged"] and "failure rate 100 %" in sites["LCG.KEK.jp"]["flags"][0]
    assert not sites["LCG.DESY.de"]["flagged"] and not sites["LCG.KIT.de"]["flagged"]
    assert sites["OSG.BNL.us"]["banned"] and sites["OSG.BNL.us"]["ban_reason"] == "Downtime until Monday"
    ses = {s["se"]: s for s in health["storage_elements"]}
    assert ses["DESY-TMP-SE"]["flagged"] and "over 95 %" in ses["DESY-TMP-SE"]["flags"][0]
    assert 0.95 < ses["DESY-TMP-SE"]["fill"] < 1.0
    assert ses["KEK-TMP-DISK-SE"]["flags"] == ["unavailable for writing (Rucio's availability)"]
    assert not ses["KEK-DATA-SE"]["flagged"] and ses["KEK-DATA-SE"]["fill"] < 0.01

    text = grid.run("gb2_site_status")
    assert text.code == 0
    kek = next(line for line in text.out.splitlines() if line.startswith("LCG.KEK.jp"))
    assert "100 %" in kek and "flagged: failure rate 100 %" in kek
    assert "banned: Downtime until Monday" in next(line for line in text.out.splitlines() if line.startswith("OSG.BNL.us"))
    assert "flagged: 97" in next(line for line in text.out.splitlines() if line.startswith("DESY-TMP-SE"))
    time.sleep(1.2)
    narrow = grid.run("gb2_site_status", "--hours", "0.0002", "--json").json()
    assert all(s["ended"] == 0 for s in narrow["sites"]), narrow  # nothing was updated in the last 0.72 s

    # gbasf2 leaves KEK out of the plan, says so, and --use_flagged_sites keeps it.
    mc = str(tmp_path / "mc.py")
    (tmp_path / "mc.py").write_text("import basf2\n")
    plan = grid.run("gbasf2", mc, "-p", "next", "-s", RELEASE, "--dryrun", "--json").json()
    assert any(note.startswith("Left out of the plan, flagged by gb2_site_status") and "LCG.KEK.jp" in note
               for note in plan["notes"])  # fmt: skip
    shown = grid.run("gbasf2", mc, "-p", "next", "-s", RELEASE, "--dryrun")
    assert "** Banned sites: LCG.KEK.jp" in shown.out and "--use_flagged_sites" in shown.out
    kept = grid.run("gbasf2", mc, "-p", "next", "-s", RELEASE, "--dryrun", "--use_flagged_sites", "--json").json()
    assert not any("flagged" in note for note in kept["notes"])
    only_kek = grid.run("gbasf2", mc, "-p", "sig", "-s", RELEASE, "-i", SIGNAL, "--dryrun", "--json").json()
    assert any("Kept although flagged" in note and "LCG.KEK.jp" in note for note in only_kek["notes"])
    submitted = grid.run("gbasf2", mc, "-p", "next", "-s", RELEASE, "--force", "--json").json()
    [job] = submitted["job_ids"]
    assert jdl.parse(grid.dx.job_jdls([job])[job]).strings("BannedSites") == ["LCG.KEK.jp"]
