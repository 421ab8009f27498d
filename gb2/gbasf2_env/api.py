"""The gbasf2 (DIRAC, BelleDIRAC) Python calls that b2luigi's helper scripts make, on gb2.

b2luigi asks for the login (``getProxyInfo``), a project's jobs and their statuses
(``InformationCollector``) and the files of a project or an output glob
(``Manager.getLfns``) by running small scripts that import these APIs. The modules in
``gb2/gbasf2_env/python`` keep DIRAC's names and call the functions here, which work
in-process on a :class:`gb2.session.Session` of the active profile (no gb2 command is
run). Results follow DIRAC's convention: ``{"OK": True, "Value": ...}`` or
``{"OK": False, "Message": ...}``; a gb2 failure becomes ``{"OK": False}`` with its
one-line reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from functools import wraps
from typing import Any

from gb2.errors import Gb2Error, NotFound

Result = dict[str, Any]

#: ``Value`` keys of a job in ``getJobSummary``: DIRAC's job attributes (``JobID`` is the key).
JOB_KEYS = ("Status", "MinorStatus", "ApplicationStatus", "Site", "JobGroup", "JobName", "Owner",
            "SubmissionTime", "LastUpdateTime", "RescheduleCounter")  # fmt: skip


def S_OK(value: Any = None) -> Result:  # noqa: N802 - DIRAC's name
    return {"OK": True, "Value": value}


def S_ERROR(message: str) -> Result:  # noqa: N802
    return {"OK": False, "Message": message}


def returns_result(fn: Callable[..., Any]) -> Callable[..., Result]:
    """``fn``'s value as ``S_OK``, a :class:`Gb2Error` as ``S_ERROR`` with its message."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Result:
        try:
            return S_OK(fn(*args, **kwargs))
        except Gb2Error as exc:
            return S_ERROR(str(exc))

    return wrapper


_session: Any = None


def session() -> Any:
    """One session of the active profile per process (starts the embedded server if needed)."""
    global _session
    if _session is None:
        from gb2.session import Session

        _session = Session.open()
    return _session


def proxy_info() -> Result:
    """DIRAC's ``getProxyInfo()``: the cached login, read without a network call; not OK
    when nobody is logged in or the login expired (b2luigi then runs gb2_proxy_init)."""
    from gb2 import VO
    from gb2.login import proxy_info as cached_login
    from gb2.session import Session

    try:
        info = cached_login(Session.open(start=False))
    except Gb2Error as exc:
        return S_ERROR(str(exc))
    if info is None:
        return S_ERROR("No proxy found: run gb2_proxy_init")
    if info.seconds_left <= 0:
        return S_ERROR("Your proxy has expired: run gb2_proxy_init")
    return S_OK({
        "username": info.username,
        "group": info.group,
        "groupProperties": info.properties,
        "secondsLeft": int(info.seconds_left),
        "identity": f"{info.username}@{VO}",
        "subject": info.subject,
        "issuer": info.issuer,
        "path": str(info.path),
        "validGroup": True,
        "isProxy": False,
    })  # fmt: skip


@returns_result
def project_jobs(projects: Iterable[str], user: str | None = None, since: str | None = None,
                 statuses: Iterable[str] = ()) -> dict[str, list[dict[str, Any]]]:  # fmt: skip
    """The jobs of each project (paged searches, no call per job), ``{project: [job, ...]}``;
    a project without jobs has an empty list.

    As every gb2 command that looks at a project, this first releases the jobs gb2 holds
    for scouts that have passed (on a DiracX without scouting), so that a workflow tool never
    takes a project whose scouts are Done for a finished one."""
    from gb2.jobs.scouts import project_scouting
    from gb2.jobs.status import Selection, iter_jobs

    s = session()
    names = tuple(projects)
    wanted = tuple(x for x in statuses if x.lower() != "all")
    start = _date(since)
    jobs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    if names:
        project_scouting(s, list(names), user or s.username)
        selection = Selection(user or s.username, projects=names, statuses=wanted, since=start)
        for job in iter_jobs(s.diracx, selection, ["JobID", *JOB_KEYS]):
            jobs.setdefault(job["JobGroup"], []).append(job)
    return jobs


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    except ValueError:
        from gb2.errors import BadInput

        raise BadInput(f"invalid date {text!r}: expected YYYY-MM-DD") from None


def job_summary(jobs: Iterable[dict[str, Any]]) -> Result:
    """``{job id: {"Status", "ApplicationStatus", ...}}``; not OK for no jobs (b2luigi's
    helper then exits 3: "no such project")."""
    summary = {str(job["JobID"]): {k: job.get(k) for k in JOB_KEYS} for job in jobs}
    if not summary:
        return S_ERROR("No jobs selected")
    return S_OK(summary)


@returns_result
def lfns(dataset: str, user: str | None = None) -> list[str]:
    """The file LFNs of a project name or LPN, or the files whose LFN matches an absolute
    glob, every reschedule generation included; an empty list when nothing matches."""
    from gb2.data.datasets import expand_glob, is_glob, to_lpn

    s = session()
    lpn = to_lpn(dataset, user or s.username)
    try:
        if is_glob(lpn):
            return expand_glob(s.rucio, lpn, did_type="file")
        did = s.rucio.did(lpn)
        return sorted(f["name"] for f in s.rucio.list_files(did.scope, did.name))
    except NotFound:
        return []
