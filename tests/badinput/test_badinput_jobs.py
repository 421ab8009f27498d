"""Bad input to the job tools: job status, reschedule, kill, delete, output, project summary and
analysis, diagnostic. Nothing is changed on the server, nothing is written locally."""

from __future__ import annotations

import pytest

from tests.badinput.conftest import case, check

HUGE = str(2**64)


def selection_cases(tool: str, force: tuple[str, ...] = ()) -> list:  # type: ignore[type-arg]
    """The selector mistakes every job tool shares (-p, -j, --status, -u)."""
    return [
        case(tool, "-j", "", *force, code=2, message="-j/--jobid was given an empty value", id=f"{tool} -j empty"),
        case(tool, "-j", ",", *force, code=2, message="-j/--jobid was given an empty value"),
        case(tool, "-p", "", *force, code=2, message="-p/--project was given an empty value", id=f"{tool} -p empty"),
        case(tool, "-p", " ", *force, code=2, message="-p/--project was given an empty value", id=f"{tool} -p blank"),
        case(tool, "-j", "12x", *force, code=2, message="not a number"),
        case(tool, "-j", "0", *force, code=2, message="out of range"),
        case(tool, "-j", HUGE, *force, code=2, message="out of range"),
        case(tool, "-j", "424242", *force, code=5, message="job 424242 not found"),
        case(tool, "-j", "{ALICEJOB},424242", *force, code=5, message="job 424242 not found"),
        case(tool, "-j", "{BOBJOB}", *force, code=4, message="belongs to bob"),
        case(tool, "-p", "nosuchproject", *force, code=5, message="no project nosuchproject of alice"),
        case(tool, "-p", "{PROJECT}", "nosuchproject", *force, code=5, message="no project nosuchproject"),
        case(tool, "-p", "{PROJECT}", "-u", "bob", *force, code=5, message="no project have of bob"),
        case(tool, "-p", "{PROJECT}", "-u", "", *force, code=2, message="'--user': was given an empty value"),
        case(tool, "-p", "{PROJECT}", "--status", "Sleeping", *force, code=2, message="unknown status"),
        case(tool, "-p", "{PROJECT}", "--status", "", *force, code=2, message="--status was given an empty value"),
        case(tool, "-p", "{PROJECT}", "--bogus", *force, code=2, message="No such option"),
    ]


CASES = [
    *selection_cases("gb2_job_status"),
    case("gb2_job_status", "-p", "{PROJECT}", "--wait", "--interval", "0", code=2, message="--interval"),
    case("gb2_job_status", "-p", "{PROJECT}", "--wait", "--timeout", "-1", code=2, message="--timeout"),
    case("gb2_job_status", "-p", "{PROJECT}", "--wait", "--timeout", "soon", code=2, message="--timeout"),
    case("gb2_job_status", "extra", code=2, message="unexpected extra argument"),
    *selection_cases("gb2_job_reschedule", ("--force",)),
    case("gb2_job_reschedule", code=2, message="say which jobs to reschedule"),
    case("gb2_job_reschedule", "-f", code=2, message="say which jobs to reschedule"),
    case("gb2_job_reschedule", "--json", "--force", code=2, message="say which jobs to reschedule"),
    *selection_cases("gb2_job_kill", ("--force",)),
    case("gb2_job_kill", "--force", code=2, message="say which jobs to kill"),
    case("gb2_job_kill", "-p", "{PROJECT}", code=2, message="pass --force", id="gb2_job_kill without --force"),
    case("gb2_job_kill", "-p", "{PROJECT}", "--json", code=2, message="pass --force", id="gb2_job_kill --json"),
    *selection_cases("gb2_job_delete", ("--force",)),
    case("gb2_job_delete", "--force", code=2, message="say which jobs to delete"),
    case("gb2_job_delete", "-j", "{ALICEJOB}", code=2, message="pass --force", id="gb2_job_delete no --force"),
    *selection_cases("gb2_job_output"),
    case("gb2_job_output", code=2, message="-p PROJECT or -j ID"),
    case("gb2_job_output", "--status", "Failed", code=2, message="-p PROJECT or -j ID"),
    case("gb2_job_output", "-p", "{PROJECT}", "--dir", "/proc/self", code=2, message="cannot write"),
    case("gb2_job_output", "-p", "{PROJECT}", "--dir", "{in}/binary.bin", code=2, message="is a file"),
    case("gb2_job_output", "-p", "{PROJECT}", "--dir", "{in}/binary.bin/x", code=2, message="is not a folder"),
    case("gb2_project_summary", "-p", "", code=2, message="-p/--project was given an empty value"),
    case("gb2_project_summary", "-p", "nosuchproject", code=5, message="no project nosuchproject of alice"),
    case("gb2_project_summary", "-p", "nosuchproject", "--json", code=5, message="no project nosuchproject"),
    case("gb2_project_summary", "-p", "{PROJECT}", "-u", "bob", code=5, message="no project have of bob"),
    case("gb2_project_summary", "-u", "", code=2, message="'--user': was given an empty value"),
    case("gb2_project_summary", "--wait", "--interval", "0.01", code=2, message="--interval"),
    case("gb2_project_summary", "--timeout", "x", code=2, message="--timeout"),
    case("gb2_project_summary", "-j", "1", code=2, message="No such option"),
    *selection_cases("gb2_project_analysis"),
    case("gb2_diagnostic", "--failed_job", "x", code=2, message="--failed_job"),
    case("gb2_diagnostic", "--failed_job", "0", code=2, message="--failed_job"),
    case("gb2_diagnostic", "--failed_job", HUGE, code=2, message="--failed_job"),
    case("gb2_diagnostic", "--failed_job", "424242", code=5, message="job 424242 not found"),
    case("gb2_diagnostic", "--failed_job", "{BOBJOB}", code=4, message="belongs to bob"),
    case("gb2_diagnostic", "--failed_job", code=2, message="requires an argument"),
    case("gb2_diagnostic", "--waiting_job", "x", code=2, message="--waiting_job"),
    case("gb2_diagnostic", "--waiting_job", "0", code=2, message="--waiting_job"),
    case("gb2_diagnostic", "--waiting_job", "424242", code=5, message="job 424242 not found"),
    case("gb2_diagnostic", "--waiting_job", "{BOBJOB}", code=4, message="belongs to bob"),
    case("gb2_diagnostic", "--waiting_job", "{ALICEJOB}", "--failed_job", "{ALICEJOB}", code=2, message="give one of"),
    case("gb2_diagnostic", "-p", "", code=2, message="was given an empty value", id="gb2_diagnostic -p empty"),
    case("gb2_diagnostic", "-p", "nosuchproject", code=5, message="no project nosuchproject of alice"),
    case("gb2_diagnostic", "-p", "{PROJECT}", "--waiting_job", "{ALICEJOB}", code=2, message="give one of"),
    # retries with overrides and failure clusters
    case("gb2_job_reschedule", "-p", "{PROJECT}", "--cputime", "0", "--force", code=2, message="--cputime"),
    case("gb2_job_reschedule", "-p", "{PROJECT}", "--cputime", "soon", "--force", code=2, message="--cputime"),
    case("gb2_job_reschedule", "-p", "{PROJECT}", "--cputime", "100001", "--force", code=2, message="--cputime"),
    case("gb2_job_reschedule", "-p", "{PROJECT}", "--site", "", "--force", code=2, message="--site was given an empty"),
    case("gb2_job_reschedule", "-p", "{PROJECT}", "--banned_site", "KEK;rm", "--force", code=2, message="not a site name"),
    case("gb2_job_reschedule", "-p", "{PROJECT}", "--site", "LCG.KEK.jp", "--banned_site", "LCG.KEK.jp", "--force",
         code=2, message="both name LCG.KEK.jp"),
    case("gb2_job_reschedule", "-p", "{PROJECT}", "--basf2opt", "'-n 5", "--force", code=2, message="--basf2opt cannot be parsed"),
    case("gb2_job_reschedule", "--status", "Failed", "--cluster", "x", "--force", code=2, message="--cluster needs -p"),
    case("gb2_job_reschedule", "-p", "{PROJECT}", "--cluster", "", "--force", code=2, message="empty value",
         id="gb2_job_reschedule --cluster empty"),
    case("gb2_job_reschedule", "-p", "{PROJECT}", "--cluster", "analysis-123456", "--force", code=5,
         message="no failure cluster analysis-123456"),
    case("gb2_job_reschedule", "-p", "nosuchproject", "--cputime", "20", "--force", code=5, message="no project nosuchproject"),
    case("gb2_job_kill", "-p", "{PROJECT}", "--cputime", "20", "--force", code=2, message="No such option"),
    case("gb2_job_output", "-j", "{ALICEJOB}", "--attempt", "0", code=2, message="--attempt"),
    case("gb2_job_output", "-j", "{ALICEJOB}", "--attempt", "x", code=2, message="--attempt"),
    case("gb2_job_output", "-p", "{PROJECT}", "--attempt", "1", code=2, message="--attempt goes with one job"),
    case("gb2_job_output", "-j", "{ALICEJOB},{ALICEJOB}", "--attempt", "1", code=2, message="--attempt goes with one job"),
    case("gb2_job_output", "-j", "{ALICEJOB}", "--attempt", "5", code=2, message="has 1 attempt(s)"),
    case("gb2_job_output", "-j", "{BOBJOB}", "--attempt", "1", code=4, message="belongs to bob"),
    case("gb2_job_output", "-j", "424242", "--attempt", "1", code=5, message="job 424242 not found"),
    case("gb2_project_analysis", "-p", "nosuchproject", "--failures", code=5, message="no project nosuchproject"),
    case("gb2_project_analysis", "-p", "{PROJECT}", "--failures=yes", code=2, message="does not take a value"),
    # --wait's additions
    case("gb2_job_status", "-p", "{PROJECT}", "--auto_reschedule", "1", code=2, message="--auto_reschedule goes with --wait"),
    case("gb2_job_status", "-p", "{PROJECT}", "--notify", code=2, message="--notify goes with --wait"),
    case("gb2_job_status", "-p", "{PROJECT}", "--wait", "--auto_reschedule", "0", code=2, message="--auto_reschedule"),
    case("gb2_job_status", "-p", "{PROJECT}", "--wait", "--auto_reschedule", "x", code=2, message="--auto_reschedule"),
    case("gb2_project_summary", "-p", "{PROJECT}", "--notify", code=2, message="--notify goes with --wait"),
    case("gb2_project_summary", "-p", "{PROJECT}", "--wait", "--auto_reschedule", "11", code=2, message="--auto_reschedule"),
    # peek and job info
    *[c for tool in ("gb2_job_peek", "gb2_job_info") for c in (
        case(tool, code=2, message="Missing option '-j'", id=f"{tool} no job"),
        case(tool, "-j", "x", code=2, message="-j"),
        case(tool, "-j", "0", code=2, message="-j"),
        case(tool, "-j", HUGE, code=2, message="-j"),
        case(tool, "-j", "424242", code=5, message="job 424242 not found"),
        case(tool, "-j", "{BOBJOB}", code=4, message="belongs to bob"),
        case(tool, "-j", "{ALICEJOB}", "extra", code=2, message="unexpected extra argument"),
        case(tool, "-j", "{ALICEJOB}", "--profile", "nosuch", code=2, message="unknown profile 'nosuch'"),
    )],
    # site and storage health
    case("gb2_site_status", "--hours", "0", code=2, message="--hours"),
    case("gb2_site_status", "--hours", "-3", code=2, message="--hours"),
    case("gb2_site_status", "--hours", "week", code=2, message="--hours"),
    case("gb2_site_status", "--hours", "1e9", code=2, message="--hours"),
    case("gb2_site_status", "extra", code=2, message="unexpected extra argument"),
    case("gb2_site_status", "--bogus", code=2, message="No such option"),
]


@pytest.mark.parametrize("bad", CASES)
def test_job_tools_bad_input(world, capsys, monkeypatch, tmp_path, bad):
    check(world, capsys, monkeypatch, tmp_path, bad)
