"""Scout jobs: a few clones of a project's jobs over a few events, before the project runs.

gbasf2 submits ``K`` scout jobs (default 2) with a project of 5 jobs or more: scout
``k`` clones one job of the project (spread over the plan), reads only its first
input file, stops basf2 after ``N (k+1)/K`` events (``--scout_events N``, default
100) and uploads nothing; its ``gb2_usage.json`` is its report (:mod:`gb2.jobs.forecast`).
The other jobs, the *primaries*, must not run before every scout is Done, and must
never run if one fails. Two ways hold them:

* **On the server** (gb2's embedded grid, or any gb2 server that says so in
  ``/.well-known/dirac-metadata``): gbasf2 submits scouts and primaries together,
  each primary's JDL naming its scouts (``ScoutJobIDs``); the server's optimiser puts
  the primaries in ``Scouting`` with the scout ids in their job parameters, and its
  agent releases them (``Waiting``) or fails them (``Scout job <id> failed``), as
  BelleDIRAC does.
* **Held by gb2** (a real DiracX 0.7: it has no ``Scouting`` status, refuses it in a
  status update, and nothing a user may set keeps a job from being matched): the
  primaries are not submitted at all until the scouts pass. Their plan is kept on
  the servers, never only on this machine: an archive (``gb2_held_plan.json``)
  uploaded as a DiracX sandbox and listed in the scouts' ``InputSandbox`` (so DiracX
  keeps it while the scouts exist), named in the project's scouting record (JSON
  metadata ``gb2_scouting`` of the output container in Rucio). Whichever gb2 command
  next looks at the project (``gb2_job_status``, ``gb2_project_summary``,
  ``gb2_project_analysis``, their ``--wait``), on whichever machine, releases them
  once every scout is Done, with gbasf2's idempotent submission (job names
  reconciled, duplicates of a concurrent release removed): a release cut short is
  finished by the next command, nothing is submitted twice. If a scout fails, nothing
  is submitted and the project shows the scout's failure; rescheduling the scout and
  seeing it pass releases the project then. ``-n auto`` uses this way on every
  server: the primaries' size is only known from the scouts.

Everything a command shows about scouting comes from :func:`project_scouting`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gb2.errors import BadInput, Gb2Error, NotFound
from gb2.jobs.forecast import (
    Forecast,
    PlanFigures,
    ScoutMeasurement,
    ScoutReport,
    Sizing,
    auto_size,
    make_forecast,
    make_report,
    plan_figures,
)
from gb2.jobs.states import DONE, FAILED, FINAL_STATES, SCOUTING
from gb2.jobs.status import find_scouts, scout_name

if TYPE_CHECKING:
    from gb2.jobs.project import Plan
    from gb2.session import Session

DEFAULT_SCOUTS = 2
DEFAULT_SCOUT_EVENTS = 100
#: -n auto's target job length (hours) unless --job_hours says otherwise.
DEFAULT_JOB_HOURS = 4.0
#: Projects with fewer jobs run without scouts unless --scouts asks for them.
SCOUT_FROM_JOBS = 5
#: JSON metadata key of the output container: the project's scouting record.
RECORD_KEY = "gb2_scouting"
HELD_FILE = "gb2_held_plan.json"
SERVER, HELD = "server", "held"
#: Statuses of a scout that end the project's hopes (Done is the only good end).
SCOUT_FAILURES = FINAL_STATES - {DONE}


def home_lpn(owner: str, project: str) -> str:
    """Where a project's output container (and its scouting record) is, unless --output_ds moved it."""
    return f"/belle/user/{owner}/{project}"


# -- deciding and planning -------------------------------------------------------------


@dataclass
class ScoutPlan:
    """How a project is scouted."""

    count: int
    events: int
    mode: str  # SERVER or HELD
    picks: list[int]  # the jobs (indices into plan.jobs) the scouts clone
    auto_hours: float | None = None  # -n auto: the primaries are sized from the scouts

    def events_of(self, k: int) -> int:
        """Scout k processes N (k+1)/K events: different lengths tell start-up from time per event."""
        return max(1, math.ceil(self.events * (k + 1) / self.count))

    def as_json(self) -> dict[str, Any]:
        return {"scouts": self.count, "scout_events": self.events, "mode": self.mode,
                "auto_job_hours": self.auto_hours}  # fmt: skip


def server_holds_scouts(session: Session) -> bool:
    """Does this DiracX hold primaries in Scouting itself? Only a gb2 server says so."""
    try:
        response = session.diracx.api.request("GET", "/.well-known/dirac-metadata", idempotent=True, auth=False)
        meta = response.json()
    except (Gb2Error, ValueError):
        return False
    gb2 = meta.get("gb2") if isinstance(meta, dict) else None
    return isinstance(gb2, dict) and gb2.get("scouting") is True


def decide(session: Session, plan: Plan) -> ScoutPlan | None:
    """Whether and how to scout this plan (notes on the plan say why)."""
    r = plan.request
    jobs = len(plan.jobs)
    if r.noscout:
        if r.auto_files and not r.scout_local:
            raise BadInput("-n auto sizes jobs from scouts: drop --noscout, or add --scout_local")
        return None
    if r.resume and not find_scouts(session, [r.project], plan.owner):
        plan.notes.append("no scout jobs: the project was submitted without them")
        return None
    if r.scouts is None and jobs < SCOUT_FROM_JOBS and not r.auto_files:
        plan.notes.append(f"no scout jobs: the project has {jobs} job(s), fewer than {SCOUT_FROM_JOBS} "
                          "(--scouts K asks for them)")  # fmt: skip
        return None
    count = max(1, min(r.scouts or DEFAULT_SCOUTS, jobs))
    picks = sorted({round(k * (jobs - 1) / (count - 1)) for k in range(count)}) if count > 1 else [0]
    auto = r.auto_files and not r.scout_local
    mode = SERVER if not auto and server_holds_scouts(session) else HELD
    return ScoutPlan(len(picks), r.scout_events, mode, picks, r.job_hours if auto else None)


def figures_of(plan: Plan) -> PlanFigures:
    r = plan.request
    return plan_figures([[f.events for f in job.inputs] for job in plan.jobs], cpu_limit_seconds=plan.cpu_minutes * 60,
                        output_lpn=plan.output_lpn, files_per_job=None if r.auto_files else r.files_per_job,
                        basf2opt=r.basf2opt, job_hours=r.job_hours if r.auto_files else None)  # fmt: skip


# -- the record on the output container -------------------------------------------------


@dataclass
class Record:
    """The project's scouting record (``gb2_scouting`` on its output container)."""

    mode: str
    scouts: list[str]
    scout_events: int
    figures: PlanFigures
    held: str | None = None  # the held plan's sandbox PFN
    state: str = "scouting"  # scouting, released, failed
    primaries: int | None = None
    report: dict[str, Any] | None = None
    sizing: dict[str, Any] | None = None
    failed_scout: dict[str, Any] | None = None
    lpn: str = ""  # where it was read from (not stored)

    def dumps(self) -> str:
        doc = {"v": 1, "mode": self.mode, "scouts": self.scouts, "scout_events": self.scout_events,
               "figures": self.figures.as_json(), "held": self.held, "state": self.state,
               "primaries": self.primaries, "report": self.report, "sizing": self.sizing,
               "failed_scout": self.failed_scout}  # fmt: skip
        return json.dumps(doc, sort_keys=True, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str, lpn: str) -> Record | None:
        try:
            doc = json.loads(text)
            return cls(doc["mode"], list(doc["scouts"]), int(doc["scout_events"]),
                       PlanFigures.from_json(doc["figures"]), doc.get("held"), doc.get("state", "scouting"),
                       doc.get("primaries"), doc.get("report"), doc.get("sizing"), doc.get("failed_scout"),
                       lpn)  # fmt: skip
        except (ValueError, KeyError, TypeError):
            return None


def read_record(session: Session, lpn: str) -> Record | None:
    rucio = session.rucio
    did = rucio.did(lpn)
    try:
        meta = rucio.get_metadata(did.scope, did.name, plugin="JSON")
    except NotFound:
        return None
    text = meta.get(RECORD_KEY)
    return Record.loads(text, lpn) if isinstance(text, str) else None


def write_record(session: Session, record: Record) -> None:
    did = session.rucio.did(record.lpn)
    session.rucio.set_metadata(did.scope, did.name, RECORD_KEY, record.dumps())


# -- submission ----------------------------------------------------------------------------


def held_document(plan: Plan, sandbox_entries: list[str]) -> dict[str, Any]:
    """What gb2 needs to submit the primaries later, on any machine: the plan, without local paths."""
    r = plan.request
    return {
        "v": 1,
        "project": r.project, "owner": plan.owner, "group": plan.group, "output_lpn": plan.output_lpn,
        "cpu_minutes": plan.cpu_minutes, "sandbox": sandbox_entries,
        "request": {"steering": r.steering.name, "release": r.release, "files_per_job": r.files_per_job,
                    "cputime": r.cputime, "priority": r.priority, "sites": r.sites, "banned_sites": r.banned_sites,
                    "platform": r.platform, "input_grouping": r.input_grouping, "jobtype": r.jobtype,
                    "basf2opt": r.basf2opt, "auto_files": r.auto_files, "job_hours": r.job_hours},
        "jobs": [{"index": job.index, "files": [{"scope": f.scope, "name": f.name, "bytes": f.bytes,
                                                  "events": f.events, "rses": f.rses} for f in job.inputs]}
                 for job in plan.jobs],
    }  # fmt: skip


def plan_from_held(doc: dict[str, Any]) -> tuple[Plan, list[str]]:
    from gb2.client.rucio import FileReplicas
    from gb2.jobs.project import Plan, PlannedJob, Request

    q = doc["request"]
    request = Request(steering=Path(q["steering"]), project=doc["project"], release=q["release"],
                      files_per_job=q["files_per_job"], cputime=q["cputime"], priority=q["priority"],
                      sites=q["sites"], banned_sites=q["banned_sites"], platform=q["platform"],
                      input_grouping=q["input_grouping"], jobtype=q["jobtype"], basf2opt=q["basf2opt"],
                      auto_files=q["auto_files"], job_hours=q["job_hours"])  # fmt: skip
    jobs = [PlannedJob(j["index"], [FileReplicas(f["scope"], f["name"], f["bytes"], None, f["events"],
                                                 {rse: [] for rse in f["rses"]}) for f in j["files"]])
            for j in doc["jobs"]]  # fmt: skip
    plan = Plan(request, doc["owner"], doc["group"], doc["output_lpn"], jobs, doc["cpu_minutes"])
    return plan, list(doc["sandbox"])


def scout_jdls(plan: Plan, scouting: ScoutPlan, sandbox_entries: list[str]) -> tuple[list[str], list[str]]:
    """(JDLs, names) of the scouts: clones of the picked jobs over their first input file."""
    from gb2.jobs import jdl
    from gb2.jobs.project import PlannedJob, jdl_base, job_attributes

    base = jdl_base(plan, sandbox_entries)
    has_inputs = any(job.inputs for job in plan.jobs)
    texts, names = [], []
    for k, pick in enumerate(scouting.picks):
        job = plan.jobs[pick]
        attrs = job_attributes(plan, PlannedJob(job.index, job.inputs[:1]), base, has_inputs)
        attrs["JobName"] = scout_name(plan.request.project, k)
        attrs["Arguments"] += f" --scout-events {scouting.events_of(k)}"
        texts.append(jdl.dumps(attrs))
        names.append(attrs["JobName"])
    return texts, names


@dataclass
class ScoutSubmission:
    scout_ids: list[int]
    primary_ids: list[int]
    held: int  # primaries held by gb2 (not submitted yet)
    already_present: int = 0
    duplicates_removed: list[int] = field(default_factory=list)
    new_ids: list[int] = field(default_factory=list)  # primaries (not scouts) this call submitted


def submit_scouted(session: Session, plan: Plan, scouting: ScoutPlan, entries: list[str],
                   progress: Any = None, before_record: Callable[[], None] | None = None) -> ScoutSubmission:  # fmt: skip
    """Scouts first, then (on a server that holds them) the primaries naming their scouts.

    The scouting record and the held plan go to the servers before any scout is
    submitted, so whatever stops this half-way, the project can be carried on.
    ``before_record`` is called before the record is written on the output container
    (which is being created meanwhile)."""
    from gb2.engine.basf2helper import PLAN_FILE
    from gb2.jobs.project import build_jdls
    from gb2.jobs.sandbox import archive_of
    from gb2.jobs.submit import Submitter

    figures = figures_of(plan)
    files = {PLAN_FILE: json.dumps({"project": plan.request.project, **figures.as_json()}).encode()}
    held_pfn = None
    if scouting.mode == HELD:
        files[HELD_FILE] = json.dumps(held_document(plan, entries), separators=(",", ":")).encode()
    info_pfn = session.diracx.upload_sandbox(archive_of(files))
    if scouting.mode == HELD:
        held_pfn = info_pfn
    names = [scout_name(plan.request.project, k) for k in range(scouting.count)]
    record = Record(scouting.mode, names, scouting.events, figures, held=held_pfn,
                    primaries=None if plan.request.auto_files else len(plan.jobs), lpn=plan.output_lpn)  # fmt: skip
    if before_record:
        before_record()
    write_record(session, record)
    texts, names = scout_jdls(plan, scouting, [*entries, info_pfn])
    submitter = Submitter(session.diracx, plan.owner, plan.request.project)
    wanted = list(names)
    primary_texts: list[str] = []
    if scouting.mode == SERVER:
        wanted += [plan.job_name(job.index) for job in plan.jobs]
    present = submitter.existing(wanted) if plan.request.resume else {}
    ids = {name: min(found) for name, found in present.items()}
    todo = [i for i, name in enumerate(names) if name not in ids]
    result = submitter.submit([texts[i] for i in todo], [names[i] for i in todo], progress)
    ids.update(zip([names[i] for i in todo], result.job_ids, strict=True))
    scout_ids = [ids[n] for n in names]
    new_ids: list[int] = []
    removed = list(result.duplicates_removed)
    primary_ids: list[int] = []
    if scouting.mode == SERVER:
        primary_texts = build_jdls(plan, entries, {"ScoutJobIDs": scout_ids})
        primary_names = [plan.job_name(job.index) for job in plan.jobs]
        todo = [i for i, name in enumerate(primary_names) if name not in ids]
        result = submitter.submit(primary_texts.pick(todo), [primary_names[i] for i in todo], progress)
        ids.update(zip([primary_names[i] for i in todo], result.job_ids, strict=True))
        primary_ids = [ids[n] for n in primary_names]
        new_ids += result.job_ids
        removed += result.duplicates_removed
    held = 0 if scouting.mode == SERVER else (len(plan.jobs) if not plan.request.auto_files else -1)
    return ScoutSubmission(scout_ids, primary_ids, held, already_present=len(present), duplicates_removed=removed,
                           new_ids=new_ids)


# -- what a command sees, and the release ---------------------------------------------------


@dataclass
class ScoutView:
    """A scouted project as gb2 shows it."""

    project: str
    mode: str
    state: str  # scouting, released, failed, passed (server: the server released them)
    scouts: list[dict[str, Any]]
    held: int | None = None  # primaries not submitted yet (held by gb2); None: unknown
    scouting_primaries: int = 0  # primaries in status Scouting on the server
    failed_scout: dict[str, Any] | None = None
    report: ScoutReport | None = None
    forecast: Forecast | None = None
    sizing: Sizing | None = None
    released_now: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def waiting(self) -> int:
        """Primaries waiting for the scouts (Scouting), wherever they are held."""
        return self.scouting_primaries + ((self.held or 0) if self.state == "scouting" else 0)

    def as_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "mode": self.mode,
            "state": self.state,
            "scouts": [{"job_id": s["JobID"], "status": s["Status"], "minor_status": s["MinorStatus"],
                        "application_status": s["ApplicationStatus"], "site": s["Site"], "job_name": s["JobName"]}
                       for s in self.scouts],  # fmt: skip
            "held": self.held,
            "failed_scout": self.failed_scout,
            "report": self.report.as_json() if self.report else None,
            "forecast": self.forecast.as_json() if self.forecast else None,
            "sizing": self.sizing.as_json() if self.sizing else None,
            "released_now": self.released_now,
            "notes": self.notes,
        }


def held_counts(view: ScoutView) -> dict[str, int]:
    """The held primaries as a status count: Scouting while held, Failed once a scout failed
    (they never will be submitted), nothing once released (they are real jobs then)."""
    if view.mode != HELD or not view.held or view.held < 0:
        return {}
    if view.state == "scouting":
        return {SCOUTING: view.held}
    if view.state == "failed":
        return {FAILED: view.held}
    return {}


def add_held(counts: dict[str, int], views: dict[str, ScoutView]) -> dict[str, int]:
    """Status counts with the held primaries of these projects added."""
    out = dict(counts)
    for view in views.values():
        for status, n in held_counts(view).items():
            out[status] = out.get(status, 0) + n
    return out


def project_scouting(session: Session, projects: list[str], owner: str | None = None, *,
                     scouting_counts: dict[str, int] | None = None, advance: bool = True,
                     scouts: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, ScoutView]:  # fmt: skip
    """Every scouted project among ``projects``, brought up to date: a held project whose scouts
    passed is released (``advance``, only the user's own), a failed one is recorded as such.

    ``scouting_counts``: primaries in status Scouting per project, when the caller has them;
    ``scouts``: the projects' scout jobs, when the caller has just searched them (:func:`find_scouts`
    for the same owner: not searched again)."""
    owner = owner or session.username
    mine = owner == session.username
    views = {}
    found = scouts if scouts is not None else find_scouts(session, projects, owner)
    if found and scouting_counts is None:
        scouting_counts = {row["JobGroup"]: int(row["count"]) for row in session.diracx.summary(
            ["JobGroup"], [{"parameter": "JobGroup", "operator": "in", "values": sorted(found)},
                           {"parameter": "Owner", "operator": "eq", "value": owner},
                           {"parameter": "Status", "operator": "eq", "value": SCOUTING}])}  # fmt: skip
    for project, scouts in found.items():
        views[project] = _view(session, project, owner, scouts, (scouting_counts or {}).get(project, 0),
                               advance=advance and mine)  # fmt: skip
    return views


def _state_of(scouts: list[dict[str, Any]]) -> tuple[str, dict[str, Any] | None]:
    failed = next((s for s in scouts if s["Status"] in SCOUT_FAILURES), None)
    if failed is not None:
        return "failed", failed
    if scouts and all(s["Status"] == DONE for s in scouts):
        return "passed", None
    return "scouting", None


def _view(session: Session, project: str, owner: str, scouts: list[dict[str, Any]], in_scouting: int,
          *, advance: bool) -> ScoutView:  # fmt: skip
    state, failed = _state_of(scouts)
    record = read_record(session, home_lpn(owner, project))
    reports: dict[int, dict[str, Any]] | None = None
    if record is None and state != "scouting":  # the output went elsewhere (--output_ds): the scouts say where
        reports = scout_usage(session, scouts)
        lpn = next((str(r["output_lpn"]) for r in reports.values() if r.get("output_lpn")), None)
        record = read_record(session, lpn) if lpn else None
    mode = record.mode if record else (SERVER if in_scouting else HELD)
    shown = "released" if state == "passed" and mode == SERVER else state
    view = ScoutView(project, mode, shown, scouts, scouting_primaries=in_scouting)
    if record is None and state == "scouting":
        view.notes.append(f"the project's scouting record is not at {home_lpn(owner, project)} (another "
                          "--output_ds?): the scouts' reports say where, once they end")  # fmt: skip
    elif record is None:
        view.notes.append("no scouting record found for this project (its output container was removed, "
                          "or the scouts left no report naming it)")  # fmt: skip
    elif record.mode == HELD:
        view.held = 0 if record.state == "released" else (record.primaries if record.primaries is not None else None)
        if record.state == "released":
            view.state = "released"
    if failed is not None:
        view.failed_scout = _failure(failed)
    if state == "scouting":
        return view
    report = ScoutReport.from_json(record.report) if record and record.report else None
    if report is None:
        reports = reports if reports is not None else scout_usage(session, scouts)
        report = make_report([m for m in (ScoutMeasurement.from_usage(r) for r in reports.values()) if m])
    view.report = report
    if record is None:
        return view
    changed = False
    if report is not None and record.report is None and state == "passed":  # a failed scout may be rescheduled
        record.report, changed = report.as_json(), True
    if state == "failed" and record.failed_scout != view.failed_scout:
        record.failed_scout, changed = view.failed_scout, True
        if record.state == "scouting":
            record.state = "failed"
    if state == "passed" and record.mode == HELD and record.state != "released" and advance:
        view.released_now = release(session, project, record, report)
        record.state, view.state, view.held, changed = "released", "released", 0, True
    if record.sizing:
        view.sizing = Sizing(**record.sizing)
    if changed and advance:
        write_record(session, record)
    if report is not None:
        figures = record.figures
        if view.sizing is not None and record.primaries:
            figures = _sized(figures, view.sizing, record.primaries)
        view.forecast = make_forecast(report, figures, remaining_quota(session, report))
    return view


def _failure(row: dict[str, Any]) -> dict[str, Any]:
    return {"job_id": row["JobID"], "status": row["Status"], "minor_status": row["MinorStatus"],
            "application_status": row["ApplicationStatus"], "site": row["Site"]}  # fmt: skip


def _sized(figures: PlanFigures, sizing: Sizing, jobs: int) -> PlanFigures:
    """The figures of an auto-sized project once its primaries are planned."""
    per_file = figures.events_per_file_max or 0
    return PlanFigures(jobs, figures.files, figures.events_total,
                       min(figures.events_total or 0, per_file * sizing.files_per_job) or None,
                       figures.events_per_file_max, figures.events_per_file_mean, sizing.files_per_job,
                       sizing.cpu_minutes * 60, figures.output_lpn, figures.job_hours)  # fmt: skip


def scout_usage(session: Session, scouts: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The ``gb2_usage.json`` of each scout that left one (from its newest output sandbox)."""
    import tempfile

    from gb2.engine.basf2helper import USAGE_FILE
    from gb2.jobs.output import fetch_one

    found: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="gb2-scouts-") as tmp:
        for row in scouts:
            job_id = int(row["JobID"])
            try:
                folder = fetch_one(session.diracx, job_id, Path(tmp) / str(job_id))
                if folder is None or not (folder / USAGE_FILE).is_file():
                    continue
                doc = json.loads((folder / USAGE_FILE).read_text())
            except (Gb2Error, OSError, ValueError):
                continue
            if isinstance(doc, dict):
                found[job_id] = doc
    return found


def remaining_quota(session: Session, report: ScoutReport) -> dict[str, int | None]:
    """Bytes left of the user's quota at each storage element the scouts would write to
    (every storage element with a limit for a local scout). Read through Rucio's account
    usage (``local_account_usage``); None where it cannot be read or is unlimited."""
    wanted = sorted({s.output_se for s in report.scouts if s.output_se})
    rucio = session.rucio
    try:
        account = rucio.current_account()
        rows = rucio.local_account_usage(account)
    except (Gb2Error, AttributeError):
        return dict.fromkeys(wanted)
    left: dict[str, int | None] = {}
    for row in rows:
        remaining = row.get("bytes_remaining")
        if isinstance(remaining, (int, float)) and math.isfinite(remaining):
            left[str(row.get("rse"))] = int(remaining)
    if wanted:
        return {rse: left.get(rse) for rse in wanted}
    return left


def apply_sizing(plan: Plan, report: ScoutReport) -> Sizing:
    """-n auto: choose the files per job from the scouts and split the plan's files again."""
    from gb2.jobs.project import PlannedJob, split_jobs

    r = plan.request
    files = sorted((f for job in plan.jobs for f in job.inputs), key=lambda f: f.name)
    sizing = auto_size(report, [f.events for f in files], r.job_hours or DEFAULT_JOB_HOURS, r.cputime)
    r.files_per_job = sizing.files_per_job
    plan.jobs = [PlannedJob(i, inputs) for i, inputs in enumerate(split_jobs(files, sizing.files_per_job,
                                                                           r.input_grouping))]  # fmt: skip
    plan.cpu_minutes = sizing.cpu_minutes
    plan.sizing = sizing
    return sizing


def release(session: Session, project: str, record: Record, report: ScoutReport | None) -> int:
    """Submit the held primaries (once: names already in DiracX are not submitted again);
    with -n auto, size them from the scouts first. Returns how many this call submitted."""
    import tempfile

    from gb2.jobs.project import build_jdls
    from gb2.jobs.sandbox import extract_archive
    from gb2.jobs.submit import Submitter

    if not record.held:
        return 0
    with tempfile.TemporaryDirectory(prefix="gb2-held-") as tmp:
        extract_archive(session.diracx.download_sandbox(record.held), Path(tmp))
        doc = json.loads((Path(tmp) / HELD_FILE).read_text())
    plan, entries = plan_from_held(doc)
    r = plan.request
    if (r.project, plan.output_lpn, plan.owner) != (project, record.lpn, session.username):
        raise BadInput(f"the held plan at {record.lpn} is not {project}'s: nothing was submitted")
    if r.auto_files:
        if report is None:
            raise BadInput(f"project {r.project}: the scouts left no report, so -n auto cannot size the jobs")
        record.sizing = apply_sizing(plan, report).as_json()
    record.primaries = len(plan.jobs)
    names = [plan.job_name(job.index) for job in plan.jobs]
    texts = build_jdls(plan, entries)
    submitter = Submitter(session.diracx, plan.owner, r.project)
    present = submitter.existing(names)
    todo = [i for i, name in enumerate(names) if name not in present]
    submitter.submit(texts.pick(todo), [names[i] for i in todo])
    submitter.remove_duplicates(names)  # another machine may have released the same jobs at the same time
    return len(todo)

