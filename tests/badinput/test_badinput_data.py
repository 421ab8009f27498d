"""Bad input to the data tools: ds_list, ds_search, ds_get, ds_query_file, ds_rep, ds_rep_status,
ds_rm, se_list and check_release. Nothing downloaded, replicated or removed."""

from __future__ import annotations

import pytest

from tests.badinput.conftest import case, check

HUGE = str(10**30)


def name_cases(tool: str, *extra: str) -> list:  # type: ignore[type-arg]
    """The naming mistakes every tool that takes a dataset shares."""
    return [
        case(tool, *extra, code=2, message="Missing argument", id=f"{tool} no argument"),
        case(tool, "", *extra, code=2, message="empty dataset name", id=f"{tool} empty name"),
        case(tool, "proj*", *extra, code=2, message="wildcards need an absolute path"),
        case(tool, "/elsewhere/x", *extra, code=2, message="start with /belle/"),
        case(tool, "/belle/MC/x\ny", *extra, code=2, message="\\n", id=f"{tool} newline in the name"),
        case(tool, "/belle/MC/a/../b", *extra, code=2, message="not a Belle II name"),
        case(tool, "/belle/MC/a%2Fb", *extra, code=2, message="not a Belle II name"),
        case(tool, "/belle/MC/x y", *extra, code=2, message="not a Belle II name"),
        case(tool, "/belle/MC/nothing/here", *extra, code=5, message="no such dataset or file"),
        case(tool, "nosuchproject", *extra, code=5, message="/belle/user/alice/nosuchproject"),
    ]


CASES = [
    *name_cases("gb2_ds_list"),
    case("gb2_ds_list", "{UUBAR}", "-u", "", code=2, message="'--user': was given an empty value"),
    case("gb2_ds_list", "{UUBAR}", "--bogus", code=2, message="No such option"),
    case("gb2_ds_search", "frobnicate", code=2, message="No such command"),
    case("gb2_ds_search", "dataset", code=2, message="give at least one criterion"),
    case("gb2_ds_search", "dataset", "--campaign", "", code=2, message="give at least one criterion"),
    case("gb2_ds_search", "dataset", "--data_type", "sim", code=2, message="--data_type must be mc or data"),
    case("gb2_ds_search", "dataset", "--exp", "seven", code=2, message="expected a number or a range"),
    case("gb2_ds_search", "dataset", "--exp", "12-7", code=2, message="empty range"),
    case("gb2_ds_search", "dataset", "--exp", HUGE, code=2, message="out of range"),
    case("gb2_ds_search", "dataset", "--run", "1-" + HUGE, code=2, message="out of range"),
    case("gb2_ds_search", "dataset", "--prod", "-5", code=2, message="expected a number or a range"),
    case("gb2_ds_search", "dataset", "--mc_event", "uubar", "--nope", code=2, message="No such option"),
    case("gb2_ds_search", "collection", code=2, message="give one of"),
    case("gb2_ds_search", "collection", "--list_datasets", "{COLLECTION}", "--get_metadata", "{COLLECTION}", code=2,
         message="give one of"),
    case("gb2_ds_search", "collection", "--list_datasets", "{UUBAR}", code=2, message="is not a collection"),
    case("gb2_ds_search", "collection", "--list_datasets", "/belle/collection/MC/nothing", code=5,
         message="no collection"),
    case("gb2_ds_search", "collection", "--get_metadata", "/belle/collection/MC/nothing", code=5, message="no collection"),
    *name_cases("gb2_ds_get", "--force"),
    case("gb2_ds_get", "{UUBAR}", "-d", "/proc/self", "--force", code=2, message="cannot write"),
    case("gb2_ds_get", "{UUBAR}", "-d", "{in}/binary.bin", "--force", code=2, message="is a file"),
    case("gb2_ds_get", "{UUBAR}", "-d", "{in}/binary.bin/sub", "--force", code=2, message="is not a folder"),
    case("gb2_ds_get", "{UUBAR}", "--failed_lfns", "nodir/failed.txt", "--force", code=2, message="does not exist"),
    case("gb2_ds_get", "/belle/user/alice/nothing*", "--failed_lfns", "nodir/f.txt", "--force", code=2,
         message="does not exist", id="gb2_ds_get glob --failed_lfns in a missing folder"),
    case("gb2_ds_get", "{UUBAR}", "--failed_lfns", "{in}/dir", "--force", code=2, message="is a directory"),
    case("gb2_ds_get", "{UUBAR}", "--failed_lfns", "/proc/self/failed.txt", "--force", code=2, message="cannot write"),
    case("gb2_ds_get", "{UUBAR}", "--input_dslist", "{in}/none.txt", "--force", code=2, message="does not exist"),
    case("gb2_ds_get", "{UUBAR}", "--input_dslist", "{in}/empty.txt", "--force", code=2, message="lists no LFNs"),
    case("gb2_ds_get", "{UUBAR}", "--input_dslist", "{in}/comments.txt", "--force", code=2, message="lists no LFNs"),
    case("gb2_ds_get", "{UUBAR}", "--input_dslist", "{in}/binary.bin", "--force", code=2, message="not a text file"),
    case("gb2_ds_get", "{UUBAR}", "--se", "NOPE-SE", "--force", code=2, message="unknown storage element 'NOPE-SE'"),
    case("gb2_ds_get", "{UUBAR}", "--se", "", "--force", code=2, message="was given an empty value: name a storage element"),
    case("gb2_ds_get", "{UUBAR}", "--parallel", "0", "--force", code=2, message="--parallel"),
    case("gb2_ds_get", "{UUBAR}", "--parallel", "65", "--force", code=2, message="--parallel"),
    case("gb2_ds_get", "{UUBAR}", "-u", "", "--force", code=2, message="'--user': was given an empty value"),
    case("gb2_ds_get", "{UUBAR}", code=2, message="pass --force", id="gb2_ds_get without --force"),
    *name_cases("gb2_ds_query_file"),
    case("gb2_ds_query_file", "{UUBAR}", "-m", "nEvents,colour", code=2, message="unknown metadata key 'colour'"),
    case("gb2_ds_query_file", "{UUBAR}", "-m", code=2, message="requires an argument"),
    *name_cases("gb2_ds_rep", "-d", "DESY-TMP-SE", "--force"),
    case("gb2_ds_rep", "{UUBAR}", "--force", code=2, message="Missing option '-d'"),
    case("gb2_ds_rep", "{UUBAR}", "-d", "NOPE-SE", "--force", code=2, message="unknown storage element 'NOPE-SE'"),
    case("gb2_ds_rep", "{UUBAR}", "-d", "DESY-TMP-SE", "-s", "NOPE", "--force", code=2, message="'NOPE'"),
    case("gb2_ds_rep", "{UUBAR}", "-d", "KEK-DATA-SE", "--force", code=2, message="only to TMP ones"),
    case("gb2_ds_rep", "{OUTFILE}", "-d", "DESY-TMP-SE", "--force", code=2, message="is a file"),
    case("gb2_ds_rep", "{UUBAR}", "-d", "DESY-TMP-SE", code=2, message="pass --force", id="gb2_ds_rep without --force"),
    *name_cases("gb2_ds_rep_status"),
    case("gb2_ds_rep_status", "{OUTFILE}", code=2, message="is a file"),
    case("gb2_ds_rep_status", "{PROJECT}", code=1, message="no replication rule"),
    case("gb2_ds_rm", code=2, message="Missing argument"),
    case("gb2_ds_rm", "", "-f", code=2, message="empty dataset name", id="gb2_ds_rm empty name"),
    case("gb2_ds_rm", "/belle/user/alice/*", "-f", code=2, message="not a wildcard"),
    case("gb2_ds_rm", "/belle/user/alice", "-f", code=2, message="your whole user area"),
    case("gb2_ds_rm", "{UUBAR}", "-f", code=4, message="only your own"),
    case("gb2_ds_rm", "{COLLECTION}", "-f", code=4, message="only your own"),
    case("gb2_ds_rm", "/belle/user/bob/theirs", "-f", code=4, message="only your own"),
    case("gb2_ds_rm", "nosuchproject", "-f", code=5, message="does not exist"),
    case("gb2_ds_rm", "{REMOVED}", "-f", code=5, message="does not exist"),
    case("gb2_ds_rm", "{PROJECT}", "-f", code=2, message="jobs that have not ended"),
    case("gb2_ds_rm", "{OUTFILE}", "-f", code=2, message="single file"),
    case("gb2_ds_rm", "/belle/user/alice/x\ny", "-f", code=2, message="\\n", id="gb2_ds_rm newline in the name"),
    case("gb2_se_list", "(((", code=2, message="invalid RSE expression"),
    case("gb2_se_list", "type=TMP", "extra", code=2, message="unexpected extra argument"),
    case("gb2_se_list", "--bogus", code=2, message="No such option"),
    case("gb2_check_release", "not a release", code=2, message="not a basf2 release name"),
    case("gb2_check_release", "", code=2, message="not a basf2 release name", id="gb2_check_release empty"),
    case("gb2_check_release", "release-99-99-99", code=5, message="not available on this grid"),
    case("gb2_check_release", "light-2511-gacruz", code=5, message="closest: light-2511-gacrux"),
    case("gb2_check_release", "light-2511-gacruz", "--json", code=5, message="closest: light-2511-gacrux"),
    case("gb2_check_release", "a", "b", code=2, message="unexpected extra argument"),
    case("gb2_check_release", "--bogus", code=2, message="No such option"),
]


@pytest.mark.parametrize("bad", CASES)
def test_data_tools_bad_input(world, capsys, monkeypatch, tmp_path, bad):
    check(world, capsys, monkeypatch, tmp_path, bad)
