"""Every command: its module and a one-line description (kept import-free for fast start)."""

from __future__ import annotations

TOOLS: dict[str, tuple[str, str]] = {
    "gbasf2": ("commands.gbasf2", "Submit a basf2 steering file as a project of grid jobs"),
    "gb2_proxy_init": ("commands.proxy", "Log in (OAuth2 device flow) and cache your tokens"),
    "gb2_proxy_info": ("commands.proxy", "Show your cached login: user, group, time left"),
    "gb2_proxy_destroy": ("commands.proxy", "Log out: revoke and delete your cached tokens"),
    "gb2_job_status": ("commands.job_status", "Status of jobs by project, job id or status"),
    "gb2_job_reschedule": ("commands.job_control", "Run failed, killed or stalled jobs again"),
    "gb2_job_kill": ("commands.job_control", "Kill jobs that have not ended"),
    "gb2_job_delete": ("commands.job_control", "Kill and remove jobs from the job database"),
    "gb2_job_output": ("commands.job_output", "Download jobs' output sandboxes (logs)"),
    "gb2_project_summary": ("commands.project_summary", "One line per project: counts, status, duration"),
    "gb2_project_analysis": ("commands.project_analysis", "Jobs by Status, MinorStatus, ApplicationStatus and Site"),
    "gb2_ds_list": ("commands.ds_list", "List datasets, datablocks and files of the catalogue"),
    "gb2_ds_search": ("commands.ds_search", "Find datasets by metadata; list collections and their datasets"),
    "gb2_ds_get": ("commands.ds_get", "Download a project's or dataset's files, verified"),
    "gb2_diagnostic": ("commands.diagnostic", "Check your set-up, or explain why a job failed"),
    "gb2_ds_query_file": ("commands.ds_query_file", "Metadata of files: events, size, checksum, SEs, job id"),
    "gb2_ds_rep": ("commands.ds_rep", "Replicate a dataset to another storage element"),
    "gb2_ds_rep_status": ("commands.ds_rep", "How far the replications of a dataset have got"),
    "gb2_ds_rm": ("commands.ds_rm", "Remove one of your projects, datasets or datablocks"),
    "gb2_se_list": ("commands.se_list", "List storage elements: kind, site, usage"),
    "gb2_web": ("commands.web", "A web view of your projects, for the browser and the phone"),
    "gb2_mock_server": ("commands.mock_server", "Run the embedded grid server in the foreground"),
    "gb2_config": ("commands.config", "Show or change profiles (embedded or real servers)"),
    "gb2": ("commands.umbrella", "Run any gb2 tool: gb2 <tool> args; alone, list tools"),
}
