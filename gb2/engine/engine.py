"""The local execution engine: DIRAC's optimizers, matcher and stalled-job agent in one loop.

One scheduler thread makes passes over the job database:

1. confirms bulk (parametric) submissions: Submitting -> Received;
2. optimises: Received -> Checking (JobSanity: JDL, input sandbox; Input Data
   Resolution: replicas, candidate sites) -> Waiting, or Failed with the reason;
   a job whose JDL names scout jobs (``ScoutJobIDs``) goes to Scouting instead
   (minor status "Waiting for Scout Job Completion", the scout ids in its job
   parameters) until its scouts end, as BelleDIRAC's scouting optimiser does;
2b. the scout agent releases the jobs of scouts that are all Done (Scouting ->
   Checking -> Waiting) and fails those of a scout that failed (``Scout job <id>
   failed``, with the scout's application status), so none of them ever runs;
3. matches Waiting jobs to free slots (priority first), picks a candidate site
   and hands each to a :class:`~gb2.engine.runner.JobRunner` thread;
4. watches: stops payloads whose job was killed, deleted or rescheduled; marks
   jobs whose wrapper stopped sending heartbeats Stalled, then Failed.

Jobs left Running by an engine that died are Stalled at the next start (then
Failed), so no job stays Running for ever and none is lost: a Failed job can be
rescheduled. A clean stop instead puts the jobs it interrupts back to Waiting, with
a minor status that says why, to run again at the next start. Payloads of a dead
engine are ended by its reaper (:mod:`gb2.engine.reaper`).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from gb2.engine.basf2helper import basf2_command
from gb2.engine.bookkeeping import Bookkeeping
from gb2.engine.reaper import Reaper
from gb2.engine.runner import JobRunner, JobSpec
from gb2.jobs import jdl
from gb2.jobs.states import (
    CHECKING,
    COMPLETING,
    DONE,
    FAILED,
    FINAL_STATES,
    MATCHED,
    RECEIVED,
    RUNNING,
    SCOUTING,
    STALLED,
    SUBMITTING,
    WAITING,
    Minor,
    scout_failed,
)
from gb2.server import topology
from gb2.server.diracx.jobdb import JobDB, format_ts

if TYPE_CHECKING:
    from gb2.server.state import ServerState

log = logging.getLogger("gb2.engine")

SCHEMA = """
CREATE TABLE IF NOT EXISTS engine_jobs (
    JobID INTEGER PRIMARY KEY,
    Candidates TEXT NOT NULL,          -- comma-separated candidate sites
    HoldFor TEXT                       -- the scout job ids this job waits for (comma-separated)
);
CREATE INDEX IF NOT EXISTS engine_jobs_hold ON engine_jobs(HoldFor);
CREATE TABLE IF NOT EXISTS engine_slots (
    JobID INTEGER PRIMARY KEY,
    EngineID TEXT NOT NULL,
    Started REAL NOT NULL
);
"""

BATCH = 500
#: Waiting jobs looked at beyond the free slots, so that jobs whose sites are banned or
#: full do not keep the others from starting.
DISPATCH_LOOKAHEAD = 200
_ACTIVE = (MATCHED, RUNNING, COMPLETING, STALLED)


class Engine:
    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.settings = state.settings
        self.jobs: JobDB = state.services["jobs"]
        self.db = state.db
        self.db.apply_schema(SCHEMA)
        self.id = uuid.uuid4().hex
        self.basf2 = basf2_command(self.settings.basf2_command)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._runners: dict[int, JobRunner] = {}
        self._ended: list[int] = []  # jobs whose runner ended: their slots are freed by the engine's thread
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._last_watch = 0.0
        self._faults_used: Counter[tuple[str, str]] = Counter()
        self.reaper: Reaper | None = None
        self.bookkeeping: Bookkeeping | None = None

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        self._recover()
        self.reaper = Reaper()
        self.bookkeeping = Bookkeeping(self.state)
        self._thread = threading.Thread(target=self._loop, name="gb2-engine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        with self._lock:
            runners = list(self._runners.values())
        for runner in runners:
            runner.abort(silent=True)
        for runner in runners:
            runner.join(timeout=15)
        self._free_slots()
        self._requeue([r.spec.job_id for r in runners])
        if self.reaper is not None:
            self.reaper.close()
            self.reaper = None
        if self.bookkeeping is not None:
            self.bookkeeping.close()

    def _requeue(self, job_ids: list[int]) -> None:
        """A clean stop: the jobs it interrupted wait again, saying why (a crash stalls them instead)."""
        if not job_ids:
            return
        marks = ",".join("?" * len(job_ids))
        rows = self.db.execute(f"SELECT JobID, Status FROM jobs WHERE JobID IN ({marks})", job_ids)
        back = [r["JobID"] for r in rows if r["Status"] in (MATCHED, RUNNING, COMPLETING)]
        if back:
            self.jobs.set_status_now(back, WAITING, Minor.SERVER_STOPPED, source="Matcher", force=True)
            log.warning("clean stop: %d running jobs are Waiting again", len(back))
        with self.db.write() as c:
            c.execute(f"DELETE FROM engine_slots WHERE JobID IN ({marks})", job_ids)

    def wake(self) -> None:
        self._wake.set()

    @property
    def running_jobs(self) -> list[int]:
        with self._lock:
            return list(self._runners)

    def busy(self) -> bool:
        """True while any job is queued or running here (the server stays up while busy)."""
        if self.running_jobs:
            return True
        rows = self.db.execute(
            "SELECT 1 FROM jobs WHERE Status IN (?,?,?,?,?,?,?) LIMIT 1",
            (SUBMITTING, RECEIVED, CHECKING, SCOUTING, WAITING, MATCHED, RUNNING),
        )
        return bool(rows)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self._pass()
            except Exception:  # keep the engine alive whatever one pass hits
                log.exception("engine pass failed")
            self._wake.wait(self.settings.engine_poll_seconds)

    def _pass(self) -> None:
        self._free_slots()
        self._confirm_bulk()
        self._optimise()
        self._scout_agent()
        self._dispatch()
        self._watch()

    # -- 0. recovery ---------------------------------------------------------------------
    def _recover(self) -> None:
        """Jobs held by an engine that is gone: Running ones become Stalled, Matched ones wait again."""
        rows = self.db.execute("SELECT s.JobID, j.Status FROM engine_slots s JOIN jobs j USING (JobID)")
        stalled = [r["JobID"] for r in rows if r["Status"] in (RUNNING, COMPLETING)]
        requeue = [r["JobID"] for r in rows if r["Status"] == MATCHED]
        if stalled:
            self.jobs.set_status_now(stalled, STALLED, Minor.STALLED_PILOT, source="StalledJobAgent", force=True)
            log.warning("engine restart: %d jobs whose wrapper died are now Stalled", len(stalled))
        if requeue:
            self.jobs.set_status_now(requeue, WAITING, Minor.PILOT_AGENT_SUBMISSION, source="Matcher", force=True)
        with self.db.write() as c:
            c.execute("DELETE FROM engine_slots")

    # -- 1. bulk confirmation ------------------------------------------------------------
    def _confirm_bulk(self) -> None:
        rows = self.db.execute("SELECT JobID FROM jobs WHERE Status=? LIMIT ?", (SUBMITTING, BATCH * 4))
        if rows:
            self.jobs.set_status_now([r[0] for r in rows], RECEIVED, Minor.JOB_ACCEPTED, source="JobManager")

    # -- 2. optimisation ---------------------------------------------------------------
    def _optimise(self) -> None:
        rows = self.db.execute(
            "SELECT j.JobID, d.JDL FROM jobs j JOIN job_jdls d USING (JobID) WHERE j.Status=? ORDER BY j.JobID LIMIT ?",
            (RECEIVED, BATCH),
        )
        if not rows:
            return
        parsed: dict[int, jdl.ClassAd] = {}
        failures: dict[int, tuple[str, str]] = {}
        for r in rows:
            try:
                parsed[r["JobID"]] = jdl.parse(r["JDL"])
            except jdl.JDLError as exc:
                failures[r["JobID"]] = (Minor.ILLEGAL_JDL, str(exc))
        all_lfns = sorted({lfn for ad in parsed.values() for lfn in jdl.lfn_list(ad.strings("InputData"))})
        catalog = self.state.services.get("rucio")
        locations = catalog.replica_locations(all_lfns) if all_lfns and catalog is not None else {}
        candidates: dict[int, list[str]] = {}
        sandboxes = self.state.services.get("sandboxes")
        for job_id, ad in parsed.items():
            lfns = jdl.lfn_list(ad.strings("InputData"))
            missing = [lfn for lfn in lfns if not locations.get(lfn)]
            if missing:
                failures[job_id] = (Minor.INPUT_DATA_NOT_AVAILABLE, f"No replica of {missing[0]}"[:250])
                continue
            sites = candidate_sites(ad, [locations[lfn] for lfn in lfns])
            if not sites:
                failures[job_id] = (Minor.NO_CANDIDATE_SITES, "Unknown")
                continue
            # A platform no site offers is not an error DIRAC's optimisers see: such a job
            # waits in its task queue for a worker that never comes (an empty list here).
            candidates[job_id] = [s for s in sites if platform_matches(ad, s)]
            if sandboxes is not None:
                for entry in ad.strings("InputSandbox"):
                    if entry.startswith("SB:"):
                        sandboxes.assign(job_id, entry, "Input")
        holds = self._scout_holds(parsed, candidates, failures)
        now = datetime.now(timezone.utc)
        checking, waiting = format_ts(now), format_ts(now + timedelta(microseconds=1))
        sanity = {"Status": CHECKING, "MinorStatus": Minor.JOB_SANITY, "Source": "JobSanity"}
        changes: dict[int, dict[str, dict[str, Any]]] = {}
        for job_id in candidates:
            if job_id in holds:
                then = {"Status": SCOUTING, "MinorStatus": Minor.SCOUT_WAIT, "Source": "JobScouting"}
            else:
                then = {"Status": WAITING, "MinorStatus": Minor.PILOT_AGENT_SUBMISSION, "Source": "JobScheduling"}
            changes[job_id] = {checking: dict(sanity), waiting: then}
        for job_id, (minor, app) in failures.items():
            changes[job_id] = {
                checking: dict(sanity),
                waiting: {"Status": FAILED, "MinorStatus": minor, "ApplicationStatus": app, "Source": "Optimizer"},
            }
        with self.db.write() as c:
            c.executemany(
                "INSERT OR REPLACE INTO engine_jobs (JobID, Candidates, HoldFor) VALUES (?,?,?)",
                [(j, ",".join(s), holds.get(j)) for j, s in candidates.items()],
            )
        if holds:
            self.jobs.set_metadata({j: {"ScoutJobIDs": ids} for j, ids in holds.items()})
        self.jobs.set_statuses(changes)
        if candidates:
            self._wake.set()

    # -- 2b. scouting ---------------------------------------------------------------------
    def _scout_statuses(self, scout_ids: set[int]) -> dict[int, Any]:
        found: dict[int, Any] = {}
        ids = sorted(scout_ids)
        for first in range(0, len(ids), 900):
            chunk = ids[first : first + 900]
            marks = ",".join("?" * len(chunk))
            for r in self.db.execute(f"SELECT JobID, Owner, Status, ApplicationStatus FROM jobs WHERE JobID IN ({marks})",
                                     chunk):  # fmt: skip
                found[r["JobID"]] = r
        return found

    @staticmethod
    def _scout_verdict(ids: list[int], statuses: dict[int, Any], owner: str) -> tuple[str, tuple[str, str] | None]:
        """("passed" | "failed" | "waiting", the failure's (minor, application) status). Only the
        owner's own jobs can be its scouts."""
        for scout in ids:
            row = statuses.get(scout)
            if row is None or row["Owner"] != owner:
                return "failed", (scout_failed(scout), "Unknown: no such scout job of this owner")
            if row["Status"] in FINAL_STATES and row["Status"] != DONE:
                return "failed", (scout_failed(scout), f"{row['Status']}: {row['ApplicationStatus']}"[:250])
        if all(statuses[s]["Status"] == DONE for s in ids):
            return "passed", None
        return "waiting", None

    def _scout_holds(self, parsed: dict[int, jdl.ClassAd], candidates: dict[int, list[str]],
                     failures: dict[int, tuple[str, str]]) -> dict[int, str]:  # fmt: skip
        """Jobs that must wait for their scouts (job id -> scout ids); those whose scouts
        already failed join ``failures``, those whose scouts all passed go on at once."""
        wanted: dict[int, list[int]] = {}
        for job_id in candidates:
            values = parsed[job_id].strings("ScoutJobIDs")
            ids = [int(v) for v in values if str(v).strip().isdigit()]
            if ids:
                wanted[job_id] = ids
        if not wanted:
            return {}
        statuses = self._scout_statuses({i for ids in wanted.values() for i in ids} | set(wanted))
        holds: dict[int, str] = {}
        for job_id, ids in wanted.items():
            verdict, failure = self._scout_verdict(ids, statuses, statuses[job_id]["Owner"])
            if verdict == "failed" and failure is not None:
                failures[job_id] = failure
                candidates.pop(job_id)
            elif verdict == "waiting":
                holds[job_id] = ",".join(map(str, ids))
        return holds

    def _scout_agent(self) -> None:
        """Release the jobs whose scouts all passed; fail those whose scout failed."""
        groups = {(r[0], r[1]) for r in self.db.execute(
            "SELECT DISTINCT e.HoldFor, j.Owner FROM engine_jobs e JOIN jobs j USING (JobID)"
            " WHERE e.HoldFor IS NOT NULL AND j.Status=?", (SCOUTING,))}  # fmt: skip
        if not groups:
            return
        parsed = {g: [int(v) for v in g[0].split(",") if v.isdigit()] for g in groups}
        statuses = self._scout_statuses({i for ids in parsed.values() for i in ids})
        budget = BATCH * 4
        for (group, owner), ids in parsed.items():
            verdict, failure = self._scout_verdict(ids, statuses, owner)
            if verdict == "waiting":
                continue
            rows = self.db.execute(
                "SELECT e.JobID FROM engine_jobs e JOIN jobs j USING (JobID) WHERE e.HoldFor=? AND j.Owner=?"
                " AND j.Status=? LIMIT ?", (group, owner, SCOUTING, budget))  # fmt: skip
            job_ids = [r[0] for r in rows]
            if not job_ids:
                continue
            now = datetime.now(timezone.utc)
            first, second = format_ts(now), format_ts(now + timedelta(microseconds=1))
            if verdict == "passed":
                update = {first: {"Status": CHECKING, "MinorStatus": Minor.JOB_SANITY, "Source": "JobScouting"},
                          second: {"Status": WAITING, "MinorStatus": Minor.PILOT_AGENT_SUBMISSION,
                                   "Source": "JobScheduling"}}  # fmt: skip
            else:
                assert failure is not None
                update = {first: {"Status": FAILED, "MinorStatus": failure[0], "ApplicationStatus": failure[1],
                                  "Source": "JobScouting"}}  # fmt: skip
            marks = ",".join("?" * len(job_ids))
            with self.db.write() as c:
                c.execute(f"UPDATE engine_jobs SET HoldFor=NULL WHERE JobID IN ({marks})", job_ids)
            self.jobs.set_statuses({j: {ts: dict(u) for ts, u in update.items()} for j in job_ids})
            log.info("scouts %s %s: %d jobs %s", group, verdict, len(job_ids),
                     "released" if verdict == "passed" else "failed")  # fmt: skip
            budget -= len(job_ids)
            self._wake.set()
            if budget <= 0:
                return

    # -- 3. matching ------------------------------------------------------------------
    def _dispatch(self) -> None:
        with self._lock:
            free = self.settings.workers - len(self._runners)
            site_load = Counter(r.spec.site for r in self._runners.values())
        if free <= 0 or self._stop.is_set():
            return
        rows = self.db.execute(
            "SELECT j.JobID, j.Owner, j.OwnerGroup, j.VO, j.JobGroup, j.JobName, j.RescheduleCounter,"
            " e.Candidates FROM jobs j JOIN engine_jobs e USING (JobID)"
            " WHERE j.Status=? AND e.HoldFor IS NULL AND e.Candidates != ''"
            " ORDER BY j.UserPriority DESC, j.JobID LIMIT ?",
            (WAITING, free + DISPATCH_LOOKAHEAD),
        )
        for r in rows:
            if free <= 0:
                break
            candidates = [s for s in r["Candidates"].split(",") if self._site_open(s, site_load)]
            if not candidates:
                continue  # its sites are banned or full: it waits
            site = min(candidates, key=lambda s: (site_load[s], candidates.index(s)))
            result = self.jobs.set_statuses(
                {r["JobID"]: {format_ts(datetime.now(timezone.utc)): {
                    "Status": MATCHED, "MinorStatus": Minor.ASSIGNED, "Source": "Matcher"}}},
                extra={r["JobID"]: {"Site": site}},
            )  # fmt: skip
            if result["success"].get(str(r["JobID"]), {}).get("Status") != MATCHED:
                continue  # killed or deleted meanwhile
            site_load[site] += 1
            free -= 1
            self._start_runner(r, site)

    def _site_open(self, site: str, load: Counter[str]) -> bool:
        """Whether a job may start at ``site`` now: not in the site mask, a free slot there."""
        if site in self.settings.banned_sites:
            return False
        slots = self.settings.site_slots.get(site)
        return slots is None or load[site] < slots

    def _fault_for(self, site: str, project: str) -> str | None:
        """The fault injected into the next job at ``site`` (``lost:N``: the first N jobs of each project)."""
        fault = self.settings.worker_faults.get(site)
        if not fault:
            return None
        kind, _, limit = fault.partition(":")
        if limit:
            with self._lock:
                self._faults_used[(site, project)] += 1
                if self._faults_used[(site, project)] > int(limit):
                    return None
        return kind

    def _start_runner(self, row: Any, site_name: str) -> None:
        user = self.settings.user(row["Owner"])
        if user is None:
            self.jobs.set_status_now([row["JobID"]], FAILED, "Owner unknown to this server", source="Matcher")
            return
        text = self.jobs.jdl_of(row["JobID"])  # read for the jobs that start only
        if text is None:  # every job is stored with its JDL: never seen
            self.jobs.set_status_now([row["JobID"]], FAILED, Minor.ILLEGAL_JDL, source="Matcher")
            return
        site = topology.site(site_name)
        ad = jdl.parse(text)
        cpu = ad.integer("CPUTime") or 86400
        token, _ = self.state.authority.mint_access_token(user, row["OwnerGroup"], minutes=max(60.0, 3 * cpu / 60 + 60))
        spec = JobSpec(
            job_id=row["JobID"],
            owner=row["Owner"],
            group=row["OwnerGroup"],
            vo=row["VO"],
            job_group=row["JobGroup"],
            job_name=row["JobName"],
            site=site_name,
            reschedule_counter=row["RescheduleCounter"],
            ad=ad,
            output_se=site.output_se if site else topology.SITES[0].output_se,
            local_ses=site.local_ses if site else (),
            cpu_factor=self.settings.cpu_normalization,
            fault=self._fault_for(site_name, row["JobGroup"]),
        )
        assert self.bookkeeping is not None  # started
        runner = JobRunner(
            spec,
            bookkeeping=self.bookkeeping,
            reaper=self.reaper,
            base_url=self.state.base_url,
            token=token,
            work_root=self.settings.work_root,
            heartbeat_seconds=self.settings.heartbeat_seconds,
            basf2_command=self.basf2,
            keep_workdir=self.settings.keep_workdirs,
            on_exit=self._runner_done,
        )
        with self.db.write() as c:
            c.execute("INSERT OR REPLACE INTO engine_slots VALUES (?,?,?)", (spec.job_id, self.id, time.time()))
            # A command left for an earlier attempt (the Kill a reschedule sends to a payload that
            # may still run) must not stop this one: the new attempt starts with none pending.
            c.execute("UPDATE job_commands SET Status='Obsolete' WHERE JobID=? AND Status='Received'", (spec.job_id,))
        with self._lock:
            self._runners[spec.job_id] = runner
        runner.start()

    def _runner_done(self, runner: JobRunner) -> None:
        """Called by the runner's own thread as it ends. Its slot is freed by the engine's thread:
        a database connection opened here would be one more per job, never closed."""
        with self._lock:
            self._runners.pop(runner.spec.job_id, None)
            self._ended.append(runner.spec.job_id)
        self._wake.set()

    def _free_slots(self) -> None:
        """Slots of ended runners, in one statement (not those of a job started again meanwhile)."""
        with self._lock:
            ended = [j for j in self._ended if j not in self._runners]
            self._ended.clear()
        if not ended:
            return
        try:
            with self.db.write() as c:
                c.executemany("DELETE FROM engine_slots WHERE JobID=? AND EngineID=?", [(j, self.id) for j in ended])
        except Exception:
            log.exception("could not release the slots of jobs %s", ended)

    # -- 4. watching ------------------------------------------------------------------
    def _watch(self) -> None:
        with self._lock:
            runners = dict(self._runners)
        if runners:
            ids = list(runners)
            marks = ",".join("?" * len(ids))
            rows = self.db.execute(f"SELECT JobID, Status, RescheduleCounter FROM jobs WHERE JobID IN ({marks})", ids)
            for r in rows:
                runner = runners[r["JobID"]]
                gone = r["Status"] not in _ACTIVE or r["RescheduleCounter"] != runner.spec.reschedule_counter
                if gone:
                    log.info("job %s is now %s: stopping its payload", r["JobID"], r["Status"])
                    runner.abort(silent=True)
        now = time.time()
        period = max(0.5, min(self.settings.stall_seconds, self.settings.stalled_to_failed_seconds) / 5)
        if now - self._last_watch < period:
            return
        self._last_watch = now
        self._stall_sweep(set(runners))

    def _stall_sweep(self, ours: set[int]) -> None:
        now = datetime.now(timezone.utc)
        stall_cutoff = format_ts(now - timedelta(seconds=self.settings.stall_seconds))
        fail_cutoff = format_ts(now - timedelta(seconds=self.settings.stalled_to_failed_seconds))
        # Running jobs whose wrapper went silent, Stalled ones that stayed so, Matched ones never started.
        self._move_quiet(ours, (RUNNING, COMPLETING), "COALESCE(HeartBeatTime, LastUpdateTime)", stall_cutoff,
                         STALLED, Minor.STALLED_PILOT, "StalledJobAgent")  # fmt: skip
        self._move_quiet(ours, (STALLED,), "LastUpdateTime", fail_cutoff, FAILED, Minor.STALLED_PILOT, "StalledJobAgent")
        self._move_quiet(ours, (MATCHED,), "LastUpdateTime", stall_cutoff, WAITING, Minor.PILOT_AGENT_SUBMISSION,
                         "Matcher", force=True)  # fmt: skip

    def _move_quiet(self, ours: set[int], statuses: tuple[str, ...], since: str, cutoff: str, status: str,
                    minor: str, source: str, force: bool = False) -> None:  # fmt: skip
        """Jobs (not run by this engine) in ``statuses`` with ``since`` older than ``cutoff`` get ``status``."""
        marks = ",".join("?" * len(statuses))
        rows = self.db.execute(f"SELECT JobID FROM jobs WHERE Status IN ({marks}) AND {since} < ?", (*statuses, cutoff))
        quiet = [r[0] for r in rows if r[0] not in ours]
        if quiet:
            self.jobs.set_status_now(quiet, status, minor, source=source, force=force)


def platform_matches(ad: jdl.ClassAd, site_name: str) -> bool:
    """A JDL's ``Platform`` (if any, and not ANY) is the site's workers' platform."""
    wanted = {p for p in ad.strings("Platform") if p.upper() != "ANY"}
    site = topology.site(site_name)
    return not wanted or (site is not None and site.platform in wanted)


def candidate_sites(ad: jdl.ClassAd, replica_ses: list[list[str]]) -> list[str]:
    """Sites that may run a job: wanted (Site), not banned, holding every input file locally."""
    wanted = {s for s in ad.strings("Site") if s.upper() != "ANY"}
    banned = set(ad.strings("BannedSites")) | set(ad.strings("BannedSite"))
    sites = []
    for site in topology.SITES:
        if (wanted and site.name not in wanted) or site.name in banned:
            continue
        if replica_ses and not all(set(ses) & set(site.local_ses) for ses in replica_ses):
            continue
        sites.append(site.name)
    return sites

