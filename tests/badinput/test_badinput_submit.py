"""Bad input to gbasf2: refused with its documented code before anything is submitted."""

from __future__ import annotations

import pytest

from tests.badinput.conftest import case, check

G = "gbasf2"
OK = ("{NTUPLE}", "-s", "{RELEASE}", "-i", "{UUBAR}")  # a valid request, but for the project name


def sub(*args: str, code: int = 2, message: str, id: str | None = None):  # type: ignore[no-untyped-def]
    """A submission of the ntuple example as project "fresh" with one thing wrong."""
    return case(G, "{NTUPLE}", "-p", "fresh", *args, "--force", code=code, message=message, id=id)


CASES = [
    # the steering file
    case(G, code=2, message="Missing argument"),
    case(G, "{in}/none.py", "-p", "fresh", "-s", "{RELEASE}", "--force", code=2, message="steering file not found"),
    case(G, "{in}/dir", "-p", "fresh", "-s", "{RELEASE}", "--force", code=2, message="is a directory"),
    case(G, "{in}/broken.py", "-p", "fresh", "-s", "{RELEASE}", "--force", code=2, message="syntax error"),
    case(G, "{in}/nul.py", "-p", "fresh", "-s", "{RELEASE}", "--force", code=2, message="nul.py"),
    case(G, "{in}/binary.bin", "-p", "fresh", "-s", "{RELEASE}", "--force", code=2, message="binary.bin"),
    # the project name
    case(G, *OK, "--force", code=2, message="Missing option '-p'"),
    case(G, "{NTUPLE}", "-p", "", *OK[1:], "--force", code=2, message="project name"),
    case(G, "{NTUPLE}", "-p", "x" * 33, *OK[1:], "--force", code=2, message="too long"),
    case(G, "{NTUPLE}", "-p", "bad name", *OK[1:], "--force", code=2, message="does not allow"),
    case(G, "{NTUPLE}", "-p", "a/b", *OK[1:], "--force", code=2, message="does not allow"),
    case(G, "{NTUPLE}", "-p", "../up", *OK[1:], "--force", code=2, message="does not allow"),
    case(G, "{NTUPLE}", "-p", "two\nlines", *OK[1:], "--force", code=2, message="\\n", id="gbasf2 -p newline"),
    case(G, "{NTUPLE}", "-p", "{PROJECT}", *OK[1:], "--force", code=2, message="already exists"),
    case(G, "{NTUPLE}", "-p", "{REMOVED}", *OK[1:], "--force", "--resume", code=5, message="was removed"),
    # the release
    case(G, "{NTUPLE}", "-p", "fresh", "-i", "{UUBAR}", "--force", code=2, message="Missing option '-s'"),
    sub("-s", "", message="not a basf2 release name", id="gbasf2 -s empty"),
    sub("-s", "not-a-release", message="not a basf2 release name"),
    sub("-s", "{RELEASE}", "--use_flagged_sites=yes", message="does not take a value"),
    sub("-s", "release-99-99-99", "-i", "{UUBAR}", message="not available on this grid"),
    sub("-s", "light-2511-gacruz", "-i", "{UUBAR}", message="closest: light-2511-gacrux"),
    sub("-s", "release-08-01-30", "-i", "{UUBAR}", message="closest: release-08-01-03"),
    sub("-s", "0123456789abcdef", "-i", "{UUBAR}", message="not available on this grid"),
    # the input
    sub("-s", "{RELEASE}", "-i", "", message="-i/--input was given an empty value", id="gbasf2 -i empty"),
    sub("-s", "{RELEASE}", "-i", ",,,", message="-i/--input was given an empty value"),
    sub("-s", "{RELEASE}", "-i", " , ", message="-i/--input was given an empty value", id="gbasf2 -i blank"),
    sub("-s", "{RELEASE}", "-i", "proj*", message="absolute path"),
    sub("-s", "{RELEASE}", "-i", "/elsewhere/x", message="start with /belle/"),
    sub("-s", "{RELEASE}", "-i", "/belle/MC/x\x01y", message="not a Belle II name", id="gbasf2 -i control char"),
    sub("-s", "{RELEASE}", "-i", "/belle/MC/a/../b", message="not a Belle II name"),
    sub("-s", "{RELEASE}", "-i", "/belle/MC/a%2Fb", message="not a Belle II name"),
    sub("-s", "{RELEASE}", "-i", "/belle/MC/nothing/here", code=5, message="not found in the catalogue"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR},/belle/MC/nothing", code=5, message="/belle/MC/nothing"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--input_dslist", "{in}/missing_ds.txt", message="not both"),
    sub("-s", "{RELEASE}", "--input_dslist", "{in}/none.txt", message="cannot read"),
    sub("-s", "{RELEASE}", "--input_dslist", "{in}/empty.txt", message="lists no datasets"),
    sub("-s", "{RELEASE}", "--input_dslist", "{in}/comments.txt", message="lists no datasets"),
    sub("-s", "{RELEASE}", "--input_dslist", "{in}/binary.bin", message="not a text file"),
    sub("-s", "{RELEASE}", "--input_dslist", "{in}/latin1.txt", message="not a text file"),
    sub("-s", "{RELEASE}", "--input_dslist", "{in}/dir", message="is a directory"),
    sub("-s", "{RELEASE}", "--input_dslist", "{in}/missing_ds.txt", code=5, message="not found in the catalogue"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--input_datafiles", "/belle/MC/none", code=5, message="--input_datafiles"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--input_datafiles", "/belle/MC/*.root", message="not wildcards"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--input_datafiles", "/elsewhere/f.root", message="start with /belle/"),
    # numbers
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "-n", "0", message="-n"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "-n", "many", message="-n"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--cputime", "0", message="--cputime"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--cputime", str(10**30), message="--cputime"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--cputime", "1.5", message="--cputime"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--evtpersec", "nan", message="--evtpersec"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--evtpersec", "inf", message="--evtpersec"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--evtpersec", "0", message="--evtpersec"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--evtpersec", "-3", message="--evtpersec"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--priority", "11", message="--priority"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--priority", "-1", message="--priority"),
    sub("-s", "{RELEASE}", "--repetition", "0", message="--repetition"),
    sub("-s", "{RELEASE}", "--repetition", str(10**30), message="--repetition", id="gbasf2 --repetition 10**30"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--repetition", "100000", message="over 100000 jobs"),
    # sandbox files
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "-f", "{in}/nope.so", message="sandbox file not found"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "-f", "{in}/dir", message="sandbox file not found"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "-f", "{in}/a/lib.so", "{in}/b/lib.so", message="two sandbox files"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "-f", "{in}/big.bin", message="over the 10 MB limit"),
    # placement, options
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--site", "LCG.KEK.jp", "--banned_site", "LCG.KEK.jp", message="both name"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--site", "A,B", "--banned_site", "B", message="both name B"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--site", "no site!", message="--site"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--banned_site", "$(rm)", message="--banned_site"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--platform", "", message="--platform", id="gbasf2 --platform empty"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--jobtype", "", message="--jobtype", id="gbasf2 --jobtype empty"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--jobtype", "User; rm", message="--jobtype"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--input_grouping", "random", message="'random' is not one of"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--input_grouping", "s", "i", "x", message="must be one of"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--basf2opt", "'unclosed", message="--basf2opt"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--nope", message="No such option"),
    # the output location
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--output_ds", "relative/x", message="must start with /belle/"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--output_ds", "/belle/user/alice/a//b", message="empty path segment"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--output_ds", "/belle/group/physics/x", code=4, message="scope 'group'"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--output_ds", "/belle/user/bob/x", code=4, message="scope 'user.bob'"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--output_ds", "/belle/MC/mine", code=4, message="you may not write"),
    # the session
    case(G, "{NTUPLE}", "-p", "fresh", *OK[1:], code=2, message="pass --force", id="gbasf2 without --force"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--profile", "nosuch", message="unknown profile"),
    sub("-s", "{RELEASE}", "-i", "{UUBAR}", "--profile", "../x", message="invalid profile name"),
]


@pytest.mark.parametrize("bad", CASES)
def test_gbasf2_bad_input(world, capsys, monkeypatch, tmp_path, bad):
    check(world, capsys, monkeypatch, tmp_path, bad)
