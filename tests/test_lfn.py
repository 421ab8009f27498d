"""Belle II naming rules shared by client and server: scopes, datablocks, metadata in LPNs."""

from __future__ import annotations

import pytest

from gb2.data.lfn import (
    Did,
    describe_lpn,
    is_datablock,
    is_valid_name,
    normalise,
    official_file_name,
    scope_for,
)


@pytest.mark.parametrize(("lfn", "scope"), [
    ("/belle/user/alice/proj/sub00/f.root", "user.alice"),
    ("/belle/user/a/alice/proj", "user.alice"),
    ("/belle/group/physics/Charmonium/x", "group.Charmonium"),
    ("/belle/MC/release-06-00-08/DB00002100/MC15ri_b/prod00025676/s00/e1003/4S/r00000/uubar/mdst", "mc"),
    ("/belle/MC/generic/x", "mc"),
    ("/belle/MC/skim/x", "mc_tmp"),
    ("/belle/MC/other/x/y", "mc_tmp"),
    ("/belle/Data/release-06-00-08/DB00002392/proc13/prod00029531/e0018/4S/r00000/mdst", "data"),
    ("/belle/Data/proc/release-04-02-02/DB00000938/proc11/prod00013368/e0010/4S/r03774/mdst", "data"),
    ("/belle/Data/proc/release-04-00-00/DB1/proc10/x", "data_tmp"),
    ("/belle/Data/fab/x/y", "data_tmp"),
    ("/belle/collection/MC/MC15ri_uubar_1abinv_v1", "collection"),
    ("/belle/Raw/e0018/r00001/x.sroot", "raw"),
    ("/belle/BG/x", "data"),
    ("/belle/ddm/tests/x", "test"),
    ("/elsewhere/x", "other"),
])
def test_scope_follows_rucio_belleii_extraction(lfn: str, scope: str) -> None:
    assert scope_for(lfn) == scope


def test_scope_with_known_scopes_falls_back_like_rucio() -> None:
    assert scope_for("/belle/user/carol/x", scopes={"user.alice"}) == "user"
    assert scope_for("/belle/user/a/alice/x", scopes={"user.alice"}) == "user.alice"
    assert scope_for("/belle/group/physics/Tau/x", scopes=set()) == "group"


def test_did_and_names() -> None:
    assert Did.from_lfn("/belle/user/bob//proj/") == Did("user.bob", "/belle/user/bob/proj")
    assert str(Did("mc", "/belle/MC/x")) == "mc:/belle/MC/x"
    assert normalise("/belle//user/") == "/belle/user"
    assert is_datablock("/belle/user/bob/proj/sub07") and not is_datablock("/belle/user/bob/proj")
    assert is_valid_name("/belle/user/bob/a_b-c.d+e") and not is_valid_name("belle/x") and not is_valid_name("/a b")
    assert official_file_name("mdst", 1, 25676, 10020000001) == "mdst_000001_prod00025676_task10020000001.root"


def test_metadata_read_off_official_lpns() -> None:
    skim = describe_lpn("/belle/MC/release-06-01-08/DB00002649/MC15rd_b/prod00030843/s00/e0007/4S/r00000/uubar/14120601/udst")
    assert skim == {"data_type": "mc", "data_level": "udst", "campaign_name": "MC15rd_b", "experiment": 7,
                    "run": 0, "beam_energy": "4S", "mc_event_type": "uubar", "bkg_level": "BGx1",
                    "skim_decay": "14120601", "release": "release-06-01-08", "global_tag": "DB00002649",
                    "prod_id": 30843}
    data = describe_lpn("/belle/Data/release-06-01-11/DB00002058/proc13/prod00029781/e0018/4S/r01394/hadron/14120601/udst")
    assert (data["data_type"], data["general_skim"], data["skim_decay"], data["run"]) == ("data", "hadron", "14120601", 1394)
    assert "mc_event_type" not in data and "bkg_level" not in data
    assert describe_lpn("/belle/user/alice/proj") == {}
