"""Retries with overrides: run failed jobs again with more CPU time, other sites or other
basf2 options.

DIRAC's reschedule runs a job again exactly as it was: it cannot change the job's
JDL. So a retry with overrides submits a *replacement* in the same project and ends
the old job:

1. the old job's JDL is read back (gb2's server answers the ``JDL`` search
   pseudo-parameter; DiracX 0.7 has no read route, but its reschedule answers with the
   job's JDL and leaves an ended job ended, so that is used there);
2. the overrides are applied, and the replacement keeps gbasf2's output naming: its
   outputs get the next reschedule number (``--generation``), so gb2_ds_get still
   fetches one generation per index; it is named ``<old name>_r<k>``
   (:mod:`gb2.jobs.attempts`), which ties it to the job it replaces;
3. replacements go through the idempotent bulk submitter (names already present are
   not submitted again, so a rerun after a crash never duplicates a job);
4. the old job is deleted with the minor status "Replaced by job <new id>" (killed first
   if it had not ended): status, summaries and downloads count one job per index, and
   its logs stay readable (gb2_job_output -j ID --attempt N).
"""

from __future__ import annotations

import shlex
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gb2.client.diracx import DiracX
from gb2.client.http import answer_lost, retrying
from gb2.errors import BadInput, NotOffered
from gb2.jobs import jdl
from gb2.jobs.attempts import replacement_name
from gb2.jobs.states import DELETED, FATAL_STATES, FINAL_STATES

#: Minor status of a job a replacement took over from ("Replaced by job 123").
REPLACED_BY = "Replaced by job"
#: What the server adds to a JDL at submission: dropped before the JDL is submitted again.
SERVER_ATTRIBUTES = ("JobID", "JobRequirements", "Owner", "OwnerGroup", "OwnerDN", "VirtualOrganization",
                     "DIRACSetup", "SubmitPools")  # fmt: skip
CHUNK = 1000
MAX_CPU_MINUTES = 100_000


@dataclass(frozen=True)
class Overrides:
    """What a retry changes (None / empty: keep the job's own)."""

    cputime: int | None = None  # minutes, as gbasf2's --cputime
    sites: tuple[str, ...] = ()
    banned_sites: tuple[str, ...] = ()
    basf2opt: str | None = None

    def __bool__(self) -> bool:
        return bool(self.cputime or self.sites or self.banned_sites or self.basf2opt is not None)

    def check(self) -> Overrides:
        """Checked before any network call, with gbasf2's rules for the same options."""
        from gb2.jobs.project import GRID_NAME_RE

        if self.cputime is not None and not 0 < self.cputime <= MAX_CPU_MINUTES:
            raise BadInput(f"--cputime must be a number of minutes from 1 to {MAX_CPU_MINUTES}")
        for option, names in (("--site", self.sites), ("--banned_site", self.banned_sites)):
            bad = next((n for n in names if not GRID_NAME_RE.match(n)), None)
            if bad is not None:
                raise BadInput(f"{option}: {bad!r} is not a site name")
        both = sorted(set(self.sites) & set(self.banned_sites))
        if both:
            raise BadInput(f"--site and --banned_site both name {', '.join(both)}")
        if self.basf2opt is not None:
            try:
                shlex.split(self.basf2opt)
            except ValueError as exc:
                raise BadInput(f"--basf2opt cannot be parsed: {exc}") from None
        return self

    def as_args(self) -> list[str]:
        """The options, as gb2_job_reschedule takes them."""
        args: list[str] = []
        if self.cputime:
            args += ["--cputime", str(self.cputime)]
        for site in self.sites:
            args += ["--site", site]
        for site in self.banned_sites:
            args += ["--banned_site", site]
        if self.basf2opt is not None:
            args.append(f"--basf2opt={shlex.quote(self.basf2opt)}")
        return args

    def as_json(self) -> dict[str, Any]:
        return {"cputime": self.cputime, "sites": list(self.sites), "banned_sites": list(self.banned_sites),
                "basf2opt": self.basf2opt}  # fmt: skip


def generation_of(ad: jdl.ClassAd) -> int:
    """The output generation a job's first run writes (``--generation`` of basf2helper.py, else 0)."""
    args = _arguments(ad)
    for i, arg in enumerate(args):
        if arg.startswith("--generation="):
            return int(arg.split("=", 1)[1])
        if arg == "--generation" and i + 1 < len(args):
            return int(args[i + 1])
    return 0


def _arguments(ad: jdl.ClassAd) -> list[str]:
    try:
        return shlex.split(ad.string("Arguments") or "")
    except ValueError:
        return []


def _set_option(args: list[str], name: str, value: str | None) -> list[str]:
    """``args`` without ``name`` (``--x v`` or ``--x=v``), then ``--x=value`` unless None."""
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == name:
            skip = True
            continue
        if arg.startswith(name + "="):
            continue
        out.append(arg)
    if value is not None:
        out.append(f"{name}={value}")
    return out


def replacement_jdl(old_text: str, old: dict[str, Any], overrides: Overrides) -> str:
    """The JDL of the job that replaces ``old`` (a search row with JobName and RescheduleCounter)."""
    ad = jdl.parse(old_text)
    for name in SERVER_ATTRIBUTES:
        ad.pop_ci(name)
    args = _arguments(ad)
    helper = (ad.string("Executable") or "").endswith("basf2helper.py")
    if overrides.basf2opt is not None and not helper:
        raise BadInput(f"job {old['JobID']} does not run basf2 through gbasf2's basf2helper.py: --basf2opt cannot apply")
    if helper:
        generation = generation_of(ad) + int(old.get("RescheduleCounter") or 0) + 1
        args = _set_option(args, "--generation", str(generation))
        if overrides.basf2opt is not None:
            args = _set_option(args, "--basf2opt", overrides.basf2opt or None)
        ad.set_ci("Arguments", shlex.join(args))
    if overrides.cputime:
        ad.set_ci("CPUTime", overrides.cputime * 60)
    if overrides.sites:
        ad.set_ci("Site", list(overrides.sites))
    banned = [s for s in dict.fromkeys([*ad.strings("BannedSites"), *ad.strings("BannedSite"), *overrides.banned_sites])
              if s not in overrides.sites]  # fmt: skip
    ad.pop_ci("BannedSite")
    if banned:
        ad.set_ci("BannedSites", banned)
    else:
        ad.pop_ci("BannedSites")
    ad.set_ci("JobName", replacement_name(str(old["JobName"])))
    return jdl.dumps(ad)


@dataclass
class Replaced:
    replaced: dict[int, int] = field(default_factory=dict)  # old job id -> its replacement
    failed: dict[int, str] = field(default_factory=dict)  # old job id -> why it was not replaced


def read_jdls(dx: DiracX, job_ids: Sequence[int]) -> tuple[dict[int, str], dict[int, str]]:
    """(job id -> JDL, job id -> why none): from the server's JDL read, or where there is none
    (DiracX 0.7) from its reschedule's answer, which carries the JDL. A job that such a
    reschedule did send back to run (a server that moves ended jobs) is killed at once."""
    try:
        texts = dx.job_jdls(job_ids)
        return texts, {j: "its JDL could not be read" for j in job_ids if j not in texts}
    except NotOffered:
        pass
    texts: dict[int, str] = {}
    failed: dict[int, str] = {}
    restarted: list[int] = []
    for start in range(0, len(job_ids), CHUNK):
        chunk = list(job_ids[start : start + CHUNK])
        answer = retrying("DiracX reschedule (to read the JDLs)", answer_lost)(lambda c=chunk: dx.reschedule(c))
        for key, value in (answer.get("failed") or {}).items():
            failed[int(key)] = str(value.get("detail", value) if isinstance(value, dict) else value)
        for key, value in (answer.get("success") or {}).items():
            text = value.get("InputData") if isinstance(value, dict) else None
            if text:
                texts[int(key)] = str(text)
            else:
                failed[int(key)] = "the server did not give its JDL back"
            if isinstance(value, dict) and value.get("Status") and value["Status"] not in FATAL_STATES:
                restarted.append(int(key))
    if restarted:
        dx.kill(restarted)
    return texts, failed


def replace_jobs(dx: DiracX, rows: list[dict[str, Any]], overrides: Overrides, *,
                 progress: Callable[[int], None] | None = None) -> Replaced:  # fmt: skip
    """Replace the jobs of ``rows`` (search rows: JobID, JobName, JobGroup, Owner, Status,
    RescheduleCounter) by new jobs with ``overrides``, and delete them."""
    from gb2.jobs.submit import Submitter

    outcome = Replaced()
    by_id = {int(r["JobID"]): r for r in rows}
    texts, outcome.failed = read_jdls(dx, sorted(by_id))
    groups: dict[tuple[str, str], list[tuple[int, str, str]]] = defaultdict(list)
    for job_id, text in sorted(texts.items()):
        row = by_id[job_id]
        try:
            new_jdl = replacement_jdl(text, row, overrides)
        except (jdl.JDLError, ValueError) as exc:
            outcome.failed[job_id] = f"its JDL cannot be used: {exc}"
            continue
        groups[(str(row["Owner"]), str(row["JobGroup"]))].append((job_id, replacement_name(str(row["JobName"])), new_jdl))
    for (owner, group), items in groups.items():
        submitter = Submitter(dx, owner, group)
        names = [name for _, name, _ in items]
        present = submitter.existing(names)  # a rerun after a crash: those are there already
        todo = [item for item in items if item[1] not in present]
        if todo:
            result = submitter.submit([t[2] for t in todo], [t[1] for t in todo], progress)
            present.update({t[1]: [j] for t, j in zip(todo, result.job_ids, strict=True)})
        for old, name, _ in items:
            outcome.replaced[old] = min(present[name])
    end_replaced(dx, outcome.replaced, {j: str(by_id[j]["Status"]) for j in outcome.replaced})
    return outcome


def end_replaced(dx: DiracX, replaced: dict[int, int], statuses: dict[int, str]) -> None:
    """Delete the old jobs, each with the minor status naming its replacement (killed first
    when it had not ended: DIRAC's state machine has no way from Stalled to Deleted)."""
    from gb2.client.diracx import utc_timestamp

    running = [j for j in replaced if statuses.get(j) not in FINAL_STATES]
    if running:
        dx.kill(running)
    ids = sorted(replaced)
    for start in range(0, len(ids), CHUNK):
        stamp = utc_timestamp()
        dx.set_status({j: {stamp: {"Status": DELETED, "MinorStatus": f"{REPLACED_BY} {replaced[j]}", "Source": "gb2"}}
                       for j in ids[start : start + CHUNK]})  # fmt: skip
