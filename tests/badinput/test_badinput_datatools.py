"""Bad input to the data tools of issue 14: ds_put, ds_cp, ds_verify, check_quota,
ds_query_dataset and ds_collection. Nothing uploaded, registered, copied or deleted."""

from __future__ import annotations

import pytest

from tests.badinput.conftest import case, check
from tests.badinput.test_badinput_data import name_cases

MINE = "/belle/user/alice/upload"

CASES = [
    # gb2_ds_put LPN -i LOCAL_DIR [-d SE] [--datablock subXX]
    case("gb2_ds_put", "-i", "{in}/a", "--force", code=2, message="Missing argument"),
    case("gb2_ds_put", MINE, "--force", code=2, message="Missing option '-i'"),
    case("gb2_ds_put", MINE, "-i", "{in}/nothere", "--force", code=2, message="does not exist"),
    case("gb2_ds_put", MINE, "-i", "{in}/binary.bin", "--force", code=2, message="is a file"),
    case("gb2_ds_put", MINE, "-i", "{in}/dir", "--force", code=2, message="no files"),
    case("gb2_ds_put", "{UUBAR}", "-i", "{in}/a", "--force", code=4, message="your own area"),
    case("gb2_ds_put", "/belle/user/bob/mine", "-i", "{in}/a", "--force", code=4, message="your own area"),
    case("gb2_ds_put", "/belle/user/alice/a/../b", "-i", "{in}/a", "--force", code=2, message="not a Belle II name"),
    case("gb2_ds_put", "/belle/user/alice/x y", "-i", "{in}/a", "--force", code=2, message="not a Belle II name"),
    case("gb2_ds_put", MINE, "-i", "{in}/a", "-d", "NOPE-SE", "--force", code=2, message="NOPE-SE"),
    case("gb2_ds_put", MINE, "-i", "{in}/a", "-d", "KEK-DATA-SE", "--force", code=2, message="only to TMP ones"),
    case("gb2_ds_put", MINE, "-i", "{in}/a", "--datablock", "block7", "--force", code=2, message="named sub00"),
    case("gb2_ds_put", "/belle/user/alice", "-i", "{in}/a", "--force", code=2, message="not the area itself"),
    case("gb2_ds_put", MINE, "-i", "{in}/a", "--parallel", "0", "--force", code=2, message="--parallel"),
    case("gb2_ds_put", MINE, "-i", "{in}/a", "--bogus", code=2, message="No such option"),
    # gb2_ds_cp SRC DEST
    case("gb2_ds_cp", "{UUBAR}", "--force", code=2, message="Missing argument"),
    case("gb2_ds_cp", "{UUBAR}", "{UUBAR}", "--force", code=4, message="your own area"),
    case("gb2_ds_cp", "{UUBAR}", "/belle/user/bob/copy", "--force", code=4, message="your own area"),
    case("gb2_ds_cp", "/belle/MC/nothing/here", f"{MINE}cp", "--force", code=5, message="no such dataset"),
    case("gb2_ds_cp", "{UUBAR}", "/belle/user/alice/a/../b", "--force", code=2, message="not a Belle II name"),
    case("gb2_ds_cp", "{UUBAR}", f"{MINE}cp", "-d", "NOPE-SE", "--force", code=2, message="NOPE-SE"),
    case("gb2_ds_cp", "{UUBAR}", f"{MINE}cp", "-d", "KEK-DATA-SE", "--force", code=2, message="only to TMP ones"),
    case("gb2_ds_cp", "{UUBAR}", f"{MINE}cp", "--parallel", "99", "--force", code=2, message="--parallel"),
    case("gb2_ds_cp", "", f"{MINE}cp", "--force", code=2, message="empty dataset name"),
    # gb2_ds_verify DIR
    case("gb2_ds_verify", code=2, message="Missing argument"),
    case("gb2_ds_verify", "{in}/nothere", code=2, message="does not exist"),
    case("gb2_ds_verify", "{in}/binary.bin", code=2, message="is a file"),
    case("gb2_ds_verify", "{in}/dir", code=5, message="no gb2_manifest.json"),
    case("gb2_ds_verify", "{in}/dir", "--parallel", "0", code=2, message="--parallel"),
    case("gb2_ds_verify", "{in}/dir", "--bogus", code=2, message="No such option"),
    # gb2_check_quota
    case("gb2_check_quota", "--se", "NOPE-SE", code=2, message="unknown storage element 'NOPE-SE'"),
    case("gb2_check_quota", "--se", "", code=2, message="empty value"),
    case("gb2_check_quota", "extra", code=2, message="unexpected extra argument"),
    case("gb2_check_quota", "--bogus", code=2, message="No such option"),
    # gb2_ds_query_dataset LPN
    *name_cases("gb2_ds_query_dataset"),
    case("gb2_ds_query_dataset", "{UUBAR}", "-u", "", code=2, message="'--user': was given an empty value"),
    # gb2_ds_collection create|add|remove|delete
    case("gb2_ds_collection", code=2, message="missing command: one of add, create, delete, remove",
         id="gb2_ds_collection no subcommand"),
    case("gb2_ds_collection", "frobnicate", code=2, message="No such command"),
    case("gb2_ds_collection", "create", code=2, message="Missing argument"),
    case("gb2_ds_collection", "create", "a/b", code=2, message="one word"),
    case("gb2_ds_collection", "create", "/belle/user/bob/collection/x", code=4, message="your own area"),
    case("gb2_ds_collection", "create", "..", code=2, message="collection name"),
    case("gb2_ds_collection", "create", "mine", "/belle/MC/nothing/here", code=5, message="no such dataset"),
    case("gb2_ds_collection", "add", "nosuchcoll", "{UUBAR}", code=5, message="nosuchcoll"),
    case("gb2_ds_collection", "add", "mine2", code=2, message="Missing argument"),
    case("gb2_ds_collection", "remove", "nosuchcoll", "{UUBAR}", code=5, message="nosuchcoll"),
    case("gb2_ds_collection", "delete", "nosuchcoll", "--force", code=5, message="nosuchcoll"),
    case("gb2_ds_collection", "delete", "x", code=2, message="--force", id="gb2_ds_collection delete without a terminal"),
]


@pytest.mark.parametrize("bad", CASES)
def test_data_tools_of_issue_14_bad_input(world, capsys, monkeypatch, tmp_path, bad):
    check(world, capsys, monkeypatch, tmp_path, bad)
