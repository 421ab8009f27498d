"""What ``gbasf2`` does: check a request, plan the jobs, and submit them as a project.

The order is chosen so that bad input costs nothing: the steering file's syntax,
the options, the inputs and the project name are all checked before anything is
created; the output datasets and the sandbox are created only after the user
confirmed; jobs go in idempotent batches (:mod:`gb2.jobs.submit`).

JDL of a gb2 basf2 job (the conventions the engine and the job helper share)::

    Executable    = "basf2helper.py";          # from the site's software area
    Arguments     = "--steering <file> --output-lpn <LPN> --index <n> [--basf2opt='<opts>'] [--random-seed <s>] --release <r>";
    JobName       = "<project>_<5-digit index>"; # unique in the project: makes retries safe
    JobGroup      = "<project>";
    JobType       = "User";
    InputSandbox  = {"SB:SandboxSE|/S3/...", "LFN:<--input_datafiles / --lfn_sandboxfiles>"...};
    InputData     = {"LFN:<input file>", ...};   # absent for input-less (MC) projects
    OutputSandbox = {"std.out", "std.err", "job.info", "Script1_basf2helper.py.log", "job_info.json",
                     "gb2_usage.json"};
    StdOutput = "std.out"; StdError = "std.err";
    CPUTime = <seconds>; Priority = <0..10>; BASF2Release = "<release>";
    Site = {...}; BannedSites = {...}; Platform = "...";   # when given
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shlex
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from gb2.client.http import answer_lost, retrying
from gb2.client.rucio import FileReplicas, exception_class
from gb2.data.datasets import is_glob, read_list_file, resolve_files, to_lpn
from gb2.data.lfn import datablock, name_problem
from gb2.data.write_access import check_writable
from gb2.errors import BadInput, NotFound, OperationFailed, RequestRefused
from gb2.jobs import jdl, releases
from gb2.jobs.naming import DATABLOCK_FILES, validate_project
from gb2.jobs.sandbox import SANDBOX_LIMIT, make_archive
from gb2.jobs.scouts import DEFAULT_JOB_HOURS, DEFAULT_SCOUT_EVENTS, HELD, decide, submit_scouted
from gb2.jobs.status import MAX_SCOUTS
from gb2.jobs.submit import Submitter
from gb2.session import Session

DEFAULT_EVENTS_PER_SECOND = 100.0
#: At most this many jobs in one project (the scale gb2 is built for); --repetition is capped by it.
MAX_JOBS = 100_000
#: --cputime above this (about 70 days) is a typo, not an estimate.
MAX_CPU_MINUTES = 100_000
#: DIRAC site and platform names (LCG.KEK.jp, EL9), job types (User).
GRID_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}$")
MIN_CPU_MINUTES = 10
OUTPUT_SANDBOX = ["std.out", "std.err", "job.info", "Script1_basf2helper.py.log", "job_info.json", "gb2_usage.json"]
GROUPINGS = ("site", "size")


@dataclass
class Request:
    """gbasf2's options, as given."""

    steering: Path
    project: str
    release: str
    inputs: list[str] = field(default_factory=list)
    input_dslist: Path | None = None
    files_per_job: int = 1
    sandbox_files: list[Path] = field(default_factory=list)
    lfn_sandboxfiles: bool = False
    input_datafiles: list[str] = field(default_factory=list)
    cputime: int | None = None  # minutes
    evtpersec: float | None = None
    priority: int = 1
    sites: list[str] = field(default_factory=list)
    banned_sites: list[str] = field(default_factory=list)
    platform: str | None = None
    input_grouping: str = "site"
    jobtype: str = "User"
    basf2opt: str = ""
    repetition: int | None = None
    output_ds: str | None = None
    noscout: bool = False
    resume: bool = False
    #: Scout jobs: None for the default rule (see gb2.jobs.scouts), else how many.
    scouts: int | None = None
    scout_events: int = DEFAULT_SCOUT_EVENTS
    #: Run one scout on this machine first and show its report and forecast.
    scout_local: bool = False
    #: ``-n auto``: files per job chosen from the scouts' throughput for ``job_hours`` per job.
    auto_files: bool = False
    job_hours: float | None = None
    #: gb2: keep the sites gb2_site_status flags in the plan (otherwise they are banned).
    use_flagged_sites: bool = False


@dataclass
class PlannedJob:
    index: int
    inputs: list[FileReplicas]
    #: basf2's --random-seed for this job (set for --repetition: each copy differs).
    seed: str | None = None

    @property
    def events(self) -> int | None:
        if any(f.events is None for f in self.inputs):
            return None
        return sum(f.events or 0 for f in self.inputs)


@dataclass
class Plan:
    request: Request
    owner: str
    group: str
    output_lpn: str
    jobs: list[PlannedJob]
    cpu_minutes: int
    notes: list[str] = field(default_factory=list)
    #: The output container exists already, made by an earlier run of this same plan.
    container_from_earlier_run: bool = False
    #: How the project is scouted (a :class:`gb2.jobs.scouts.ScoutPlan`), None without scouts.
    scouting: Any = None
    #: What ``-n auto`` chose from a local scout (a :class:`gb2.jobs.forecast.Sizing`).
    sizing: Any = None
    _fingerprint: str | None = None

    @property
    def input_files(self) -> list[FileReplicas]:
        return [f for job in self.jobs for f in job.inputs]

    @property
    def total_bytes(self) -> int:
        return sum(f.bytes or 0 for f in self.input_files)

    @property
    def total_events(self) -> int | None:
        values = [job.events for job in self.jobs]
        return None if any(v is None for v in values) or not self.input_files else sum(v or 0 for v in values)

    @property
    def datablocks(self) -> int:
        if self.request.auto_files and self.sizing is None:
            return 1  # the jobs are sized later; outputs add the datablocks they need
        return max(1, math.ceil(len(self.jobs) / DATABLOCK_FILES))

    def job_name(self, index: int) -> str:
        return f"{self.request.project}_{index:05d}"

    @property
    def fingerprint(self) -> str:
        """What identifies this submission: the plan and the steering file's content. Kept on the
        output container (``gb2_plan``) so a rerun recognises the container its first run made.
        Fixed once checked: ``-n auto`` sized from a local scout must not change it."""
        if self._fingerprint is None:
            text = json.dumps({**self.as_json(), "notes": None}, sort_keys=True).encode()
            self._fingerprint = hashlib.sha256(text + b"\0" + self.request.steering.read_bytes()).hexdigest()
        return self._fingerprint

    def as_json(self) -> dict[str, Any]:
        return {
            "project": self.request.project,
            "owner": self.owner,
            "group": self.group,
            "output_dataset": self.output_lpn,
            "steering": str(self.request.steering.resolve()),
            "release": self.request.release,
            "jobs": len(self.jobs),
            "input_files": len(self.input_files),
            "input_bytes": self.total_bytes,
            "input_events": self.total_events,
            "cpu_minutes_per_job": self.cpu_minutes,
            "notes": self.notes,
            "job_inputs": [[f.name for f in job.inputs] for job in self.jobs],
            "scouting": self.scouting.as_json() if self.scouting else None,
            "files_per_job": self.request.files_per_job if not self.request.auto_files or self.sizing else "auto",
        }


# -- checks ---------------------------------------------------------------------------


def check_steering(path: Path) -> None:
    """gbasf2's syntax check: refuse a steering file Python cannot compile."""
    if not path.is_file():
        raise BadInput(f"steering file not found: {path}")
    try:
        source = path.read_bytes()
        compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise BadInput(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot read steering file {path}: {exc}") from None


def check_request(r: Request) -> None:
    """Everything that can be checked without a network call: bad input costs nothing."""
    validate_project(r.project)
    check_steering(r.steering)
    releases.check_name(r.release)
    if r.files_per_job < 1:
        raise BadInput("-n (files per job) must be at least 1")
    check_scout_options(r)
    if not 0 <= r.priority <= 10:
        raise BadInput("--priority must be between 0 and 10")
    if r.input_grouping not in GROUPINGS:
        raise BadInput(f"--input_grouping must be one of {', '.join(GROUPINGS)}")
    if r.cputime is not None and not 0 < r.cputime <= MAX_CPU_MINUTES:
        raise BadInput(f"--cputime must be a number of minutes from 1 to {MAX_CPU_MINUTES}")
    if r.evtpersec is not None and not (math.isfinite(r.evtpersec) and r.evtpersec > 0):
        raise BadInput(f"--evtpersec must be a positive number of events per second, not {r.evtpersec}")
    if r.repetition is not None and not 1 <= r.repetition <= MAX_JOBS:
        raise BadInput(f"--repetition must be from 1 to {MAX_JOBS}")
    if r.inputs and not split_names(r.inputs):
        raise BadInput("-i was given an empty value: name at least one dataset")
    if r.inputs and r.input_dslist:
        raise BadInput("give the input either with -i or with --input_dslist, not both")
    if r.input_dslist is not None and not read_list_file(str(r.input_dslist)):
        raise BadInput(f"{r.input_dslist} lists no datasets")
    globbed = next((n for n in r.input_datafiles if is_glob(n)), None)
    if globbed:
        raise BadInput(f"--input_datafiles takes file LFNs, not wildcards: {globbed}")
    for option, names in (("--site", r.sites), ("--banned_site", r.banned_sites), ("--platform", [r.platform] if r.platform is not None else []),
                          ("--jobtype", [r.jobtype])):  # fmt: skip
        bad = next((n for n in names if not GRID_NAME_RE.match(n)), None)
        if bad is not None:
            raise BadInput(f"{option}: {bad!r} is not a site, platform or job type name")
    both = sorted(set(r.sites) & set(r.banned_sites))
    if both:
        raise BadInput(f"--site and --banned_site both name {', '.join(both)}: a job cannot run only there and never there")
    try:
        shlex.split(r.basf2opt)
    except ValueError as exc:
        raise BadInput(f"--basf2opt cannot be parsed: {exc}") from None
    if r.output_ds is not None:
        problem = name_problem(r.output_ds.rstrip("/")) if r.output_ds.startswith("/belle/") else "it must start with /belle/"
        if problem:
            raise BadInput(f"--output_ds {r.output_ds!r} is not a dataset LPN: {problem}")
    names = {r.steering.name}
    total = r.steering.stat().st_size
    for path in r.sandbox_files:
        if not path.is_file():
            raise BadInput(f"sandbox file not found: {path}")
        if path.name in names:
            raise BadInput(f"two sandbox files are called {path.name}")
        names.add(path.name)
        total += path.stat().st_size
    if total > SANDBOX_LIMIT and not r.lfn_sandboxfiles:
        raise BadInput(f"input sandbox is {total / 1e6:.1f} MB, over the 10 MB limit: use --lfn_sandboxfiles")


def split_names(values: list[str]) -> list[str]:
    """``-i a,b -i c``: the names, without empty ones."""
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def check_scout_options(r: Request) -> None:
    if r.scouts is not None and r.scouts < 1:
        raise BadInput("--scouts must be at least 1 (--noscout runs none)")
    if r.scouts is not None and r.scouts > MAX_SCOUTS:
        raise BadInput(f"--scouts must be at most {MAX_SCOUTS}")
    if r.scout_events < 1:
        raise BadInput("--scout_events must be at least 1")
    if r.job_hours is not None and not 0 < r.job_hours <= 500:
        raise BadInput("--job_hours must be between 0 and 500 hours")
    if r.job_hours is not None and not r.auto_files:
        raise BadInput("--job_hours is the target length of -n auto: add -n auto")
    if r.auto_files:
        if r.repetition is not None or not (r.inputs or r.input_dslist):
            raise BadInput("-n auto sizes jobs by their input files: it needs -i or --input_dslist")
        if r.noscout and not r.scout_local:
            raise BadInput("-n auto sizes jobs from scouts: drop --noscout, or add --scout_local")


def input_names(r: Request, user: str) -> list[str]:
    names = split_names(r.inputs)
    if r.input_dslist is not None:
        names.extend(read_list_file(str(r.input_dslist)))
        if not names:
            raise BadInput(f"{r.input_dslist} lists no datasets")
    return [to_lpn(n, user) for n in names]


#: JSON metadata key of the output container: the fingerprint of the plan that made it.
PLAN_KEY = "gb2_plan"


def has_jobs(session: Session, project: str) -> bool:
    """Whether the job database remembers the user's project (one small search)."""
    found = session.diracx.search(
        ["JobID"],
        [{"parameter": "JobGroup", "operator": "eq", "value": project},
         {"parameter": "Owner", "operator": "eq", "value": session.username}],
        per_page=1,
    )  # fmt: skip
    return found.total > 0


def container_plan(session: Session, output_lpn: str) -> str | None:
    """The fingerprint kept on an existing output container ("" if it has none), None if there is no container."""
    did = session.rucio.did(output_lpn)
    if not session.rucio.did_exists(did.scope, did.name):
        return None
    meta = session.rucio.get_metadata(did.scope, did.name, plugin="JSON")
    return str(meta.get(PLAN_KEY) or "")


def check_new_project(session: Session, plan: Plan) -> None:
    """Project names are never reused, except by the same submission run again: a container
    that an earlier run of this plan made (and whose answer it perhaps never got), with no job yet."""
    used = BadInput(f"project {plan.request.project} already exists: project names are never reused "
                    "(pick another -p, or --resume to submit its missing jobs)")  # fmt: skip
    if has_jobs(session, plan.request.project):
        raise used
    made_by = container_plan(session, plan.output_lpn)
    if made_by is None:
        return
    if made_by != plan.fingerprint:
        raise used
    plan.container_from_earlier_run = True
    plan.notes.append(f"{plan.output_lpn} was created by an earlier run of this same submission: carrying on")


# -- planning -------------------------------------------------------------------------


def split_jobs(files: list[FileReplicas], per_job: int, grouping: str) -> list[list[FileReplicas]]:
    """One job per ``per_job`` files; ``site`` keeps a job's files on a common storage element,
    ``size`` balances the input size of the jobs."""
    if per_job == 1:
        return [[f] for f in files]
    if grouping == "size":
        count = math.ceil(len(files) / per_job)
        bins: list[list[FileReplicas]] = [[] for _ in range(count)]
        totals = [0] * count
        for f in sorted(files, key=lambda f: -(f.bytes or 0)):
            i = min((i for i in range(count) if len(bins[i]) < per_job), key=lambda i: totals[i])
            bins[i].append(f)
            totals[i] += f.bytes or 0
        return [sorted(b, key=lambda f: f.name) for b in bins if b]
    groups: dict[tuple[str, ...], list[FileReplicas]] = defaultdict(list)
    for f in files:
        groups[tuple(sorted(f.rses))].append(f)
    jobs = []
    for group in groups.values():
        jobs.extend(group[i : i + per_job] for i in range(0, len(group), per_job))
    return sorted(jobs, key=lambda job: job[0].name)


def make_plan(session: Session, r: Request) -> Plan:
    """Resolve the inputs and check everything the servers know, creating nothing: a plan
    that passes here (``--dryrun``) fails at submission only if the grid changes meanwhile."""
    check_request(r)
    owner = session.username
    notes: list[str] = []
    note = releases.check_release(session, r.release)
    if note:
        notes.append(note)
    output_lpn = (r.output_ds or f"/belle/user/{owner}/{r.project}").rstrip("/")
    names = input_names(r, owner)
    files: list[FileReplicas] = []
    if names:
        for name in names:
            did = session.rucio.did(name)
            if not session.rucio.did_exists(did.scope, did.name):
                raise NotFound(f"input not found in the catalogue: {name}")
        files = resolve_files(session.rucio, names)
        if not files:
            raise BadInput(f"the input has no files with an available replica: {', '.join(names)}")
        per_job = 1 if r.auto_files else r.files_per_job  # -n auto: sized from the scouts later
        jobs_inputs = split_jobs(sorted(files, key=lambda f: f.name), per_job, r.input_grouping)
    else:
        jobs_inputs = [[]]
        if r.repetition is None:
            notes.append("no input files: one input-less job (use --repetition N for more)")
    copies = r.repetition or 1
    if len(jobs_inputs) * copies > MAX_JOBS:
        raise BadInput(f"{len(jobs_inputs)} input jobs x --repetition {copies} is over {MAX_JOBS} jobs in one project")
    # --repetition N: every input job (or the one input-less job) N times, each with its own
    # output index and random seed.
    jobs = [PlannedJob(i * copies + k, inputs, f"{r.project}-{i * copies + k}" if r.repetition else None)
            for i, inputs in enumerate(jobs_inputs) for k in range(copies)]  # fmt: skip
    for lfn in r.input_datafiles:
        did = session.rucio.did(to_lpn(lfn, owner))
        if not session.rucio.did_exists(did.scope, did.name):
            raise NotFound(f"--input_datafiles: not found in the catalogue: {lfn}")
    if r.cputime is None and r.evtpersec is None:
        notes.append("Please consider providing --cputime or --evtpersec")
    if not r.use_flagged_sites:
        from gb2.jobs.health import leave_out_flagged_sites

        notes.extend(leave_out_flagged_sites(session, r, jobs_inputs))
    plan = Plan(r, owner, session.group, output_lpn, jobs, 0, notes)
    plan.cpu_minutes = estimate_cpu_minutes(plan)
    check_writable(session.rucio, output_lpn, owner)
    plan.scouting = decide(session, plan)
    if r.resume:
        check_resumable(session, r.project, output_lpn)
    else:
        check_new_project(session, plan)
    return plan


def check_resumable(session: Session, project: str, output_lpn: str) -> None:
    """A project removed with gb2_ds_rm (jobs on record, output dataset gone or expiring)
    cannot be resumed: its outputs would land in a dataset that no longer exists."""
    rucio = session.rucio
    did = rucio.did(output_lpn)
    try:
        info = rucio.get_did(did.scope, did.name)
    except NotFound:
        info = None
    removed = info.get("expired_at") is not None if info is not None else has_jobs(session, project)
    if removed:
        raise NotFound(f"project {project} was removed (its dataset {output_lpn} is gone): it cannot be resumed, "
                       "and its name is not reused; submit it again under a new -p")  # fmt: skip


def estimate_cpu_minutes(plan: Plan) -> int:
    r = plan.request
    if r.cputime is not None:
        return r.cputime
    rate = r.evtpersec or DEFAULT_EVENTS_PER_SECOND
    events = max((job.events or 0 for job in plan.jobs), default=0)
    return max(MIN_CPU_MINUTES, math.ceil(events / rate / 60))


def summary_block(plan: Plan, timeleft: str) -> str:
    r = plan.request
    first = plan.jobs[0].inputs if plan.jobs else []
    events = plan.total_events
    preferred_site = ",".join(r.sites) or "None"
    lines = [
        f"Project name: {r.project}",
        f"Dataset path: {plan.output_lpn}",
        f"Steering file: {r.steering.resolve()}",
        f"Job owner: {plan.owner} @ {plan.group} ({timeleft})",
        f"Preferred site / SE: {preferred_site} / None",
        *([f"Banned sites: {', '.join(r.banned_sites)}"] if r.banned_sites else []),
        *([f"Repetition: each input job {r.repetition} times"] if r.repetition and plan.input_files else []),
        "Input files for first job: " + (", ".join(f"LFN:{f.name}" for f in first) if first else "None"),
        f"Number of input files: {len(plan.input_files)}",
        f"Number of jobs: {len(plan.jobs)}",
        f"Processed data (MB): {plan.total_bytes / 1e6:.1f}",
        f"Processed events: {events if events is not None else 'unknown'} events",
        f"Estimated CPU time per job: {plan.cpu_minutes} min",
        *scout_lines(plan),
    ]
    width = min(max(len(line) for line in lines) + 6, 80)
    title = " Project summary "
    stars = "*" * width
    head = title.center(width, "*")
    return "\n".join([stars, head, *(f"** {line}" for line in lines), stars])


def scout_lines(plan: Plan) -> list[str]:
    """gb2's lines of the summary block: the scouts and -n auto."""
    lines = []
    s = plan.scouting
    if plan.request.auto_files and plan.sizing is None:
        lines.append(f"Files per job: auto ({plan.request.job_hours or DEFAULT_JOB_HOURS:g} h per job, sized from the scouts)")
    elif plan.request.auto_files:
        lines.append(f"Files per job: {plan.sizing.files_per_job} (-n auto, from the local scout)")
    if s is None:
        lines.append("Scout jobs: none")
    else:
        where = ("held by gb2 and submitted when the scouts pass" if s.mode == HELD
                 else "in status Scouting until the scouts pass")  # fmt: skip
        lines.append(f"Scout jobs: {s.count}, up to {s.events} events each (the other jobs: {where})")
    return lines


# -- submission -----------------------------------------------------------------------


@dataclass
class Submitted:
    job_ids: list[int]
    output_lpn: str
    sandbox_pfn: str
    duplicates_removed: list[int]
    already_present: int = 0
    #: the jobs this call submitted (with --resume, job_ids also holds those already there)
    new_ids: list[int] = field(default_factory=list)
    scout_ids: list[int] = field(default_factory=list)
    #: Jobs held by gb2 until the scouts pass (-1: -n auto, their number is decided then).
    held: int = 0


def jdl_base(plan: Plan, sandbox_entries: list[str]) -> dict[str, Any]:
    """The JDL attributes every job of the project shares."""
    r = plan.request
    base: dict[str, Any] = {
        "Executable": "basf2helper.py",
        "JobGroup": r.project,
        "JobType": r.jobtype,
        "InputSandbox": sandbox_entries,
        "OutputSandbox": OUTPUT_SANDBOX,
        "StdOutput": "std.out",
        "StdError": "std.err",
        "CPUTime": plan.cpu_minutes * 60,
        "Priority": r.priority,
        "BASF2Release": r.release,
    }
    if r.sites:
        base["Site"] = r.sites
    if r.banned_sites:
        base["BannedSites"] = r.banned_sites
    if r.platform:
        base["Platform"] = r.platform
    return base


def job_attributes(plan: Plan, job: PlannedJob, base: dict[str, Any], has_inputs: bool) -> dict[str, Any]:
    """One job's JDL attributes: the shared ones, its name, arguments and input data."""
    return {**base, **own_attributes(plan, job, has_inputs)}


def own_attributes(plan: Plan, job: PlannedJob, has_inputs: bool) -> dict[str, Any]:
    """The attributes of one job that no other job shares: its arguments, name and input data."""
    r = plan.request
    # --basf2opt=VALUE, so that a value starting with "-" (-n5) stays the option's value.
    options = f" --basf2opt={shlex.quote(r.basf2opt)}" if r.basf2opt else ""
    seed = f" --random-seed {shlex.quote(job.seed)}" if job.seed else ""
    attrs: dict[str, Any] = {
        "Arguments": (f"--steering {shlex.quote(r.steering.name)} --output-lpn {plan.output_lpn} "
                      f"--index {job.index}{options}{seed} --release {r.release}"),
        "JobName": plan.job_name(job.index),
    }  # fmt: skip
    if has_inputs:
        attrs["InputData"] = [f"LFN:{f.name}" for f in job.inputs]
    return attrs


class ProjectJDLs(Sequence[str]):
    """A project's JDLs (or those of some of its jobs), each written when it is asked for.

    The submitter's threads write each batch while the server stores the one before:
    writing 100,000 texts up front took about 0.4 s during which the server waited."""

    def __init__(self, plan: Plan, template: jdl.Template, has_inputs: bool, jobs: Sequence[PlannedJob]) -> None:
        self._plan = plan
        self._template = template
        self._has_inputs = has_inputs
        self._jobs = jobs

    def __len__(self) -> int:
        return len(self._jobs)

    @overload
    def __getitem__(self, key: int) -> str: ...
    @overload
    def __getitem__(self, key: slice) -> list[str]: ...
    def __getitem__(self, key: int | slice) -> str | list[str]:
        if isinstance(key, slice):
            return [self._text(job) for job in self._jobs[key]]
        return self._text(self._jobs[key])

    def pick(self, positions: Sequence[int]) -> ProjectJDLs:
        """The JDLs at these positions (still written when asked for)."""
        if len(positions) == len(self._jobs):
            return self  # every job: positions are 0..n-1 in order
        return ProjectJDLs(self._plan, self._template, self._has_inputs, [self._jobs[i] for i in positions])

    def _text(self, job: PlannedJob) -> str:
        return self._template.dumps(own_attributes(self._plan, job, self._has_inputs))


def build_jdls(plan: Plan, sandbox_entries: list[str], extra: dict[str, Any] | None = None) -> ProjectJDLs:
    base = {**jdl_base(plan, sandbox_entries), **(extra or {})}
    has_inputs = any(job.inputs for job in plan.jobs)
    shared = jdl.Template(base)  # the attributes every job has are written once
    return ProjectJDLs(plan, shared, has_inputs, plan.jobs)


def create_output_datasets(session: Session, plan: Plan) -> None:
    """The output container (marked with the plan's fingerprint) and its datablocks.

    A lost answer to the creation is reconciled as job batches are: if the container
    now exists and is the caller's, this submission made it, and it carries on.
    """
    rucio = session.rucio
    did = rucio.did(plan.output_lpn)
    carry_on = plan.request.resume or plan.container_from_earlier_run
    lost: list[BaseException] = []

    def create() -> None:
        try:
            rucio.add_container(did.scope, did.name, meta={PLAN_KEY: plan.fingerprint}, exist_ok=carry_on)
        except RequestRefused as exc:
            if exception_class(exc) != "DataIdentifierAlreadyExists":
                raise
            if not lost or rucio.get_did(did.scope, did.name).get("account") != rucio.current_account():
                raise BadInput(f"{plan.output_lpn} already exists: project names are never reused") from None

    retrying("Rucio project container", answer_lost, before_retry=lost.append)(create)
    blocks = [(did.scope, f"{did.name}/{datablock(i)}") for i in range(plan.datablocks)]
    if len(blocks) > 1:  # 100 datablocks for 100,000 jobs: created several at a time
        from gb2.workers import worker_pool

        with worker_pool(8) as pool:
            list(pool.map(lambda block: rucio.add_dataset(*block, exist_ok=True), blocks))
    else:
        rucio.add_dataset(*blocks[0], exist_ok=True)
    rucio.attach(did.scope, did.name, blocks)


@contextmanager
def datasets_meanwhile(session: Session, plan: Plan) -> Iterator[Callable[[], None]]:
    """Create the output datasets (:func:`create_output_datasets`) in a thread while the
    caller uploads the sandbox and writes the JDLs; the caller calls what this yields
    before the first job or record needs them (their errors are raised there), and before
    ``--lfn_sandboxfiles`` files are registered below the container. At 100,000 jobs the
    hundred datablocks take about 0.7 s of the server's time that the client spent waiting.

    The thread is a daemon: Ctrl-C or an error in the caller ends the command at once, as
    when the datasets were created first (a rerun carries on from what was created)."""
    import threading

    failed: list[BaseException] = []

    def create() -> None:
        try:
            create_output_datasets(session, plan)
        except BaseException as exc:  # raised in the caller's thread by ready()
            failed.append(exc)

    worker = threading.Thread(target=create, name="gb2-output-datasets", daemon=True)
    worker.start()

    def ready() -> None:
        worker.join()
        if failed:
            raise failed[0]

    if plan.request.lfn_sandboxfiles and plan.request.sandbox_files:
        ready()
    yield ready
    ready()


def upload_sandbox(session: Session, plan: Plan) -> tuple[str, list[str]]:
    """The input sandbox PFN, plus ``LFN:`` entries for grid-resident sandbox files."""
    r = plan.request
    files = [(r.steering, r.steering.name)]
    lfn_entries: list[str] = []
    if r.lfn_sandboxfiles and r.sandbox_files:
        lfn_entries = upload_sandbox_lfns(session, plan)
    else:
        files += [(p, p.name) for p in r.sandbox_files]
    pfn = session.diracx.upload_sandbox(make_archive(files))
    lfn_entries += [f"LFN:{to_lpn(lfn, plan.owner)}" for lfn in r.input_datafiles]
    return pfn, lfn_entries


def upload_sandbox_lfns(session: Session, plan: Plan) -> list[str]:
    """--lfn_sandboxfiles: put the -f files on a user storage element as grid files."""
    from gb2.data.register import register_outputs

    rse = next((x["rse"] for x in session.rucio.list_rses("type=TMP")), None)
    if rse is None:
        raise OperationFailed("no user (TMP) storage element is available for --lfn_sandboxfiles")
    entries = [(p, f"{plan.output_lpn}/sandbox/{p.name}", None) for p in plan.request.sandbox_files]
    register_outputs(session.rucio, rse, entries, token=session.diracx.access_token())
    return [f"LFN:{lfn}" for _, lfn, _ in entries]


def submit(session: Session, plan: Plan, progress: Callable[[int], None] | None = None) -> Submitted:
    if plan.scouting is not None:
        with datasets_meanwhile(session, plan) as datasets_ready:
            pfn, extra_entries = upload_sandbox(session, plan)
            done = submit_scouted(session, plan, plan.scouting, [pfn, *extra_entries], progress,
                                  before_record=datasets_ready)  # fmt: skip
        return Submitted(done.primary_ids, plan.output_lpn, pfn, done.duplicates_removed,
                         already_present=done.already_present, new_ids=done.new_ids, scout_ids=done.scout_ids,
                         held=done.held)  # fmt: skip
    names = [plan.job_name(job.index) for job in plan.jobs]
    submitter = Submitter(session.diracx, plan.owner, plan.request.project)
    present: dict[str, list[int]] = {}
    if plan.request.resume:
        present = submitter.existing(names)
    todo = [i for i, name in enumerate(names) if name not in present]
    if not todo:  # a resume with nothing missing changes nothing
        return Submitted([min(present[n]) for n in names], plan.output_lpn, "", [], already_present=len(names))
    with datasets_meanwhile(session, plan) as datasets_ready:
        pfn, extra_entries = upload_sandbox(session, plan)
        jdls = build_jdls(plan, [pfn, *extra_entries])
        datasets_ready()
    if progress and present:
        progress(len(names) - len(todo))
    result = submitter.submit(jdls.pick(todo), [names[i] for i in todo], progress)
    ids_by_name = {name: min(ids) for name, ids in present.items()}
    ids_by_name.update(zip([names[i] for i in todo], result.job_ids, strict=True))
    return Submitted([ids_by_name[n] for n in names], plan.output_lpn, pfn, result.duplicates_removed,
                     already_present=len(names) - len(todo), new_ids=list(result.job_ids))  # fmt: skip


def compact_ids(ids: list[int]) -> str:
    """``[1,2,3,7]`` -> ``1-3, 7``."""
    if not ids:
        return ""
    ordered = sorted(ids)
    spans = []
    start = prev = ordered[0]
    for value in ordered[1:]:
        if value == prev + 1:
            prev = value
            continue
        spans.append(f"{start}-{prev}" if prev != start else str(start))
        start = prev = value
    spans.append(f"{start}-{prev}" if prev != start else str(start))
    return ", ".join(spans)

