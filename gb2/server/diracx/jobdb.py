"""The job database of the embedded server, with DiracX's semantics.

Columns, search operators, paging, the status state machine (including its
"stay put on an illegal transition" rule and client timestamps ordering the
history), heartbeats, job commands and rescheduling follow DiracX 0.7, so the
client sees the same behaviour here as on a real server. Deviations are noted
where they are made.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from gb2.jobs import jdl
from gb2.jobs.states import (
    COMPLETED,
    COMPLETING,
    DELETED,
    DONE,
    FAILED,
    KILLED,
    MATCHED,
    RECEIVED,
    RUNNING,
    STALLED,
    SUBMITTING,
    Minor,
    next_state,
)
from gb2.server.db import Database
from gb2.server.http import ApiError

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    JobID INTEGER PRIMARY KEY AUTOINCREMENT,
    JobType TEXT NOT NULL DEFAULT 'user',
    JobGroup TEXT NOT NULL DEFAULT '00000000',
    Site TEXT NOT NULL DEFAULT 'ANY',
    JobName TEXT NOT NULL DEFAULT 'Unknown',
    Owner TEXT NOT NULL,
    OwnerGroup TEXT NOT NULL,
    VO TEXT NOT NULL,
    SubmissionTime TEXT,
    RescheduleTime TEXT,
    LastUpdateTime TEXT,
    StartExecTime TEXT,
    HeartBeatTime TEXT,
    EndExecTime TEXT,
    Status TEXT NOT NULL,
    MinorStatus TEXT NOT NULL,
    ApplicationStatus TEXT NOT NULL DEFAULT 'Unknown',
    UserPriority INTEGER NOT NULL DEFAULT 1,
    RescheduleCounter INTEGER NOT NULL DEFAULT 0,
    VerifiedFlag INTEGER NOT NULL DEFAULT 1,
    AccountedFlag INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_group_owner ON jobs(JobGroup, Owner);
CREATE INDEX IF NOT EXISTS jobs_owner_status ON jobs(Owner, Status);
CREATE INDEX IF NOT EXISTS jobs_name ON jobs(JobName, JobGroup, Owner);
-- Status, then priority highest first and JobID: the engine's queue order, read from the index
-- (a sort of every Waiting job at each engine pass otherwise: 110 ms with 100,000 of them).
DROP INDEX IF EXISTS jobs_status;
CREATE INDEX IF NOT EXISTS jobs_status_priority ON jobs(Status, UserPriority DESC);
CREATE TABLE IF NOT EXISTS job_jdls (
    JobID INTEGER PRIMARY KEY,
    JDL TEXT NOT NULL,
    OriginalJDL TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS job_input_data (
    JobID INTEGER NOT NULL,
    LFN TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS job_input_data_job ON job_input_data(JobID);
CREATE TABLE IF NOT EXISTS job_logging (
    Seq INTEGER PRIMARY KEY AUTOINCREMENT,
    JobID INTEGER NOT NULL,
    Status TEXT NOT NULL,
    MinorStatus TEXT NOT NULL,
    ApplicationStatus TEXT NOT NULL,
    StatusTime TEXT NOT NULL,
    Source TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS job_logging_job ON job_logging(JobID, StatusTime);
CREATE TABLE IF NOT EXISTS job_parameters (
    JobID INTEGER NOT NULL,
    Name TEXT NOT NULL,
    Value TEXT,
    PRIMARY KEY (JobID, Name)
);
CREATE TABLE IF NOT EXISTS job_commands (
    Seq INTEGER PRIMARY KEY AUTOINCREMENT,
    JobID INTEGER NOT NULL,
    Command TEXT NOT NULL,
    Arguments TEXT NOT NULL DEFAULT '',
    Status TEXT NOT NULL DEFAULT 'Received'
);
CREATE INDEX IF NOT EXISTS job_commands_job ON job_commands(JobID, Status);
"""

COLUMNS = (
    "JobID", "JobType", "JobGroup", "Site", "JobName", "Owner", "OwnerGroup", "VO",
    "SubmissionTime", "RescheduleTime", "LastUpdateTime", "StartExecTime", "HeartBeatTime",
    "EndExecTime", "Status", "MinorStatus", "ApplicationStatus", "UserPriority",
    "RescheduleCounter", "VerifiedFlag", "AccountedFlag",
)  # fmt: skip
_COLUMN_SET = frozenset(COLUMNS)
#: Search pseudo-parameters: DiracX 0.7's ``LoggingInfo`` (the status history), and two that
#: gb2's server adds where DiracX 0.7 has no read route: ``JDL`` (the job's JDL, as DIRAC's
#: JobMonitoring.getJobJDL gives it) and ``JobParameters`` (what heartbeats and metadata set,
#: as getJobParameters gives them). The routes restrict the last two to the caller's own jobs.
PSEUDO_PARAMETERS = ("LoggingInfo", "JDL", "JobParameters")
OWNER_ONLY_PARAMETERS = frozenset({"JDL", "JobParameters"})
_BOOL_COLUMNS = ("VerifiedFlag", "AccountedFlag")
SCALAR_OPS = {"eq": "=", "neq": "!=", "gt": ">", "lt": "<", "like": "LIKE", "not like": "NOT LIKE", "regex": "REGEXP"}
VECTOR_OPS = {"in": "IN", "not in": "NOT IN"}
MAX_PER_PAGE = 10000
ALLOWED_JOB_TYPES = ("User", "Test", "Hospital", "user")
DEFAULT_CPU_TIME = 86400
MIN_CPU_TIME, MAX_CPU_TIME = 100, 500000
MAX_PRIORITY = 10
#: Attributes DiracX copies from the JDL into job columns. In DiracX 0.7 a bulk
#: submission fails ("JDL syntax error") unless every JDL carries the same set of
#: these (their values may differ); here too. gb2 gives every job the same set.
_COLUMN_ATTRIBUTES = frozenset({"jobtype", "jobgroup", "jobname", "site"})
_FINAL_FOR_END_TIME = frozenset({DONE, COMPLETED, FAILED, KILLED})


def now_ts() -> str:
    return format_ts(datetime.now(timezone.utc))


def format_ts(dt: datetime) -> str:
    """DiracX's timestamp form: ISO 8601 in UTC with microseconds and ``Z``."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text: str) -> datetime:
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(422, f"Invalid timestamp {text!r}") from exc
    if dt.tzinfo is None:
        raise ApiError(400, f"Timestamp {text} is not timezone aware")
    return dt


@dataclass(frozen=True)
class Caller:
    """The parts of an authorised user the job logic needs."""

    username: str
    group: str
    vo: str
    properties: tuple[str, ...]

    @property
    def is_admin(self) -> bool:
        return "JobAdministrator" in self.properties


_ABSENT = object()


@dataclass(frozen=True)
class Query:
    """A search as SQL: the columns asked for, and the statements counting and listing the page."""

    params: list[str]
    pseudo: tuple[str, ...]  # LoggingInfo, JDL, JobParameters: filled from other tables
    count_sql: str
    rows_sql: str
    count_args: list[Any]
    rows_args: list[Any]


@functools.cache
def _sqlite_json() -> bool:
    """Whether this SQLite has its JSON functions (built in since 3.38, usually there before)
    and materialized common table expressions (3.35)."""
    try:
        sqlite3.connect(":memory:").execute("WITH t AS MATERIALIZED (SELECT 1 AS a) SELECT json_object('a', a) "
                                            "FROM t").fetchone()  # fmt: skip
    except sqlite3.Error:
        return False
    return True


_ROW_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def row_keys(header: str | None) -> dict[str, str] | None:
    """gb2's ``Gb2-Row-Keys`` request header of a search (an extension; DiracX ignores it): a
    JSON object naming the key each asked parameter gets in the rows (``{"JobID": "job_id"}``).
    A server that applies it says so in its answer's ``Gb2-Row-Keys`` header."""
    if not header:
        return None
    try:
        keys = json.loads(header)
    except ValueError:
        keys = None
    if not isinstance(keys, dict) or not all(k in _COLUMN_SET and isinstance(v, str) and _ROW_KEY.match(v)
                                             for k, v in keys.items()):  # fmt: skip
        raise ApiError(422, "Gb2-Row-Keys must be a JSON object of job parameters and plain key names")
    return keys


def _bracketed(text: str) -> str:
    """A JDL as DiracX keeps it: with its outer brackets (they are optional on the wire)."""
    stripped = text.strip()
    return stripped if stripped.startswith("[") and stripped.endswith("]") else f"[{stripped}]"


def _next_job_id(c: sqlite3.Connection) -> int:
    """The JobID the next job gets (inside a write transaction, which holds the database):
    JobIDs are never reused, as SQLite's AUTOINCREMENT keeps them."""
    row = c.execute("SELECT seq FROM sqlite_sequence WHERE name='jobs'").fetchone()
    return (int(row[0]) if row else 0) + 1


class JobDB:
    """Job storage and the operations DiracX's job routes perform."""

    def __init__(self, db: Database, *, max_rescheduling: int = 3, max_jobs_per_submission: int = 20,
                 min_cpu_time: int = MIN_CPU_TIME) -> None:  # fmt: skip
        self.db = db
        self.min_cpu_time = min_cpu_time
        self.max_rescheduling = max_rescheduling
        self.max_jobs_per_submission = max_jobs_per_submission
        self._counts = threading.local()
        self._submitting = threading.Lock()
        db.apply_schema(SCHEMA)

    # -- access policy ---------------------------------------------------------------
    def check_access(self, caller: Caller, job_ids: Iterable[int]) -> None:
        """DiracX's WMS policy: normal users may only read or manage their own jobs."""
        if caller.is_admin:
            return
        if "NormalUser" not in caller.properties:
            raise ApiError(403, "Forbidden")
        ids = sorted({int(j) for j in job_ids})
        if not ids:
            return
        owned = 0
        c = self.db.conn()
        for chunk in _chunks(ids, 900):
            marks = ",".join("?" * len(chunk))
            owned += c.execute(
                f"SELECT COUNT(*) FROM jobs WHERE JobID IN ({marks}) AND Owner=? AND VO=?",
                (*chunk, caller.username, caller.vo),
            ).fetchone()[0]
        if owned != len(ids):
            raise ApiError(403, "Forbidden")

    # -- submission ------------------------------------------------------------------
    def submit(self, caller: Caller, texts: Sequence[str]) -> list[dict[str, Any]]:
        """Insert a bulk or parametric submission, all or nothing (one transaction).

        Submissions are handled one at a time: their parsing is pure Python, which threads
        cannot run in parallel anyway, and a batch parsed while another's rows are written
        makes each of those rows wait for the interpreter (SQLite lets it go for every row):
        a 100,000-job submission (a hundred batches, four at a time) takes 10-15 % less time.
        Searches and status updates do not wait for this."""
        with self._submitting:
            return self._submit(caller, texts)

    def _submit(self, caller: Caller, texts: Sequence[str]) -> list[dict[str, Any]]:
        """The JDLs are parsed together (:func:`gb2.jobs.jdl.parse_many`), each job's rows go
        in with one statement per table, and a job's original JDL is the text as sent (as
        DiracX keeps it; a parametric job's is its expanded description)."""
        if "NormalUser" not in caller.properties:
            raise ApiError(403, "Forbidden")
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise ApiError(422, "The body must be a non-empty list of JDL strings")
        if len(texts) > self.max_jobs_per_submission:  # before parsing: no work for a refused request
            raise ApiError(400, f"Normal user cannot submit more than {self.max_jobs_per_submission} jobs at once")
        try:
            ads = jdl.parse_many(texts)
        except jdl.JDLError as exc:
            raise ApiError(400, "JDL syntax error") from exc
        parametric = False
        try:
            if len(ads) == 1 and jdl.parameter_count(ads[0]):
                parametric = True
                ads = jdl.expand_parametric(ads[0])
            else:
                for ad in ads:
                    if jdl.parameter_count(ad):
                        raise ApiError(400, "You cannot submit parametric jobs in a bulk fashion")
        except jdl.JDLError as exc:
            raise ApiError(400, str(exc)) from exc
        if len(ads) > self.max_jobs_per_submission:
            raise ApiError(400, f"Normal user cannot submit more than {self.max_jobs_per_submission} jobs at once")
        shapes = {jdl.attribute_names(ad) & _COLUMN_ATTRIBUTES for ad in ads}
        if len(shapes) > 1:
            raise ApiError(400, "JDL syntax error")
        status, minor = (SUBMITTING, Minor.BULK_CONFIRMATION) if parametric else (RECEIVED, Minor.JOB_ACCEPTED)
        originals = [jdl.dumps(ad) for ad in ads] if parametric else [_bracketed(t) for t in texts]
        prepared = [self._prepare(caller, ad) for ad in ads]
        lines: dict[object, str] = {}  # the attributes this server adds, written once per submission
        ts = now_ts()
        with self.db.write() as c:
            first = _next_job_id(c)
            ids = range(first, first + len(prepared))
            jobs, jdls, inputs = [], [], []
            for job_id, (attrs, ad, input_data, added), original in zip(ids, prepared, originals, strict=True):
                jobs.append((job_id, attrs["JobType"], attrs["JobGroup"], attrs["Site"], attrs["JobName"],
                             caller.username, caller.group, caller.vo, ts, ts, status, minor, attrs["UserPriority"]))
                ad.set_ci("JobID", job_id)
                # The JDL with what the server adds: the original with those lines at its end when
                # it only lacked them (the same ad, without writing each job's text again).
                text = None
                if added is not None:
                    extra = [lines.get(key) or lines.setdefault(key, jdl.attribute_line(*pair)) for key, pair in added]
                    text = jdl.append_lines(original, [*extra, jdl.attribute_line("JobID", job_id)])
                mark = str(job_id)
                jdls.append((job_id, (text or jdl.dumps(ad)).replace("%j", mark), original.replace("%j", mark)))
                inputs.extend((job_id, lfn) for lfn in input_data)
            c.executemany(
                "INSERT INTO jobs (JobID, JobType, JobGroup, Site, JobName, Owner, OwnerGroup, VO, SubmissionTime,"
                " LastUpdateTime, Status, MinorStatus, ApplicationStatus, UserPriority) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'Unknown',?)", jobs)  # fmt: skip
            c.executemany("INSERT INTO job_jdls VALUES (?,?,?)", jdls)
            c.executemany("INSERT INTO job_input_data VALUES (?,?)", inputs)
            c.executemany(
                "INSERT INTO job_logging (JobID, Status, MinorStatus, ApplicationStatus, StatusTime, Source)"
                " VALUES (?,?,?,'Unknown',?,'JobManager')", [(job_id, status, minor, ts) for job_id in ids])  # fmt: skip
        return [{"JobID": job_id, "Status": status, "MinorStatus": minor, "TimeStamp": ts} for job_id in ids]

    def _prepare(self, caller: Caller, ad: jdl.ClassAd) -> tuple[dict[str, Any], jdl.ClassAd, list[str], Any]:
        """Validate a job and add the attributes DiracX adds (owner, requirements).

        Returns the job's columns, the ad, its input data, and the attributes the ad lacked
        before, in the order they were added, as ``(hashable key, (name, value))`` (None when
        one it had was changed, or it has a JobID: then its text must be written anew)."""
        job_type = ad.string("JobType") or "user"  # DiracX 0.7 stores a missing JobType as "user"
        if job_type not in ALLOWED_JOB_TYPES:
            raise ApiError(400, f"Job type {job_type} is not allowed (allowed: User, Test, Hospital)")
        cpu = ad.integer("CPUTime", DEFAULT_CPU_TIME) or DEFAULT_CPU_TIME
        if not self.min_cpu_time <= cpu <= MAX_CPU_TIME:
            cpu = min(max(cpu, self.min_cpu_time), MAX_CPU_TIME)
        priority = ad.integer("Priority", 1)
        priority = 1 if priority is None else min(max(priority, 0), MAX_PRIORITY)
        sites = [s for s in ad.strings("Site") if s and s.upper() != "ANY"]
        site = "ANY" if not sites else sites[0] if len(sites) == 1 else "Multiple"
        banned = ad.strings("BannedSites") or ad.strings("BannedSite")
        if not ad.has("Executable"):
            raise ApiError(400, "JDL syntax error")
        input_data = jdl.lfn_list(ad.strings("InputData"))
        requirements = jdl.ClassAd(
            CPUTime=cpu, Owner=caller.username, OwnerGroup=caller.group, UserPriority=priority,
            VirtualOrganization=caller.vo,
        )  # fmt: skip
        if sites:
            requirements["Sites"] = sites
        if banned:
            requirements["BannedSites"] = banned
        requirements_key = ("JobRequirements", cpu, caller.username, caller.group, priority, caller.vo,
                            tuple(sites), tuple(banned))  # fmt: skip
        added: list[tuple[object, tuple[str, object]]] | None = [] if not ad.has("JobID") else None
        for name, value, key in (("Owner", caller.username, None), ("OwnerGroup", caller.group, None),
                                 ("VirtualOrganization", caller.vo, None), ("CPUTime", cpu, None),
                                 ("Priority", priority, None), ("JobRequirements", requirements, requirements_key)):  # fmt: skip
            before = ad.get_ci(name, _ABSENT)
            if before is _ABSENT:
                if added is not None:
                    added.append((key or (name, value), (name, value)))
            elif before != value or type(before) is not type(value):
                added = None
            ad.set_ci(name, value)
        attrs = {
            "JobType": job_type,
            "JobGroup": ad.string("JobGroup") or "00000000",
            "Site": site,
            "JobName": ad.string("JobName") or "Unknown",
            "UserPriority": priority,
        }
        return attrs, ad, input_data, added

    # -- search ----------------------------------------------------------------------
    def _where(self, search: Sequence[dict[str, Any]]) -> tuple[str, list[Any]]:
        clauses, args = [], []
        for spec in search or []:
            if not isinstance(spec, dict):
                raise ApiError(422, "Invalid search specification")
            param = spec.get("parameter")
            op = spec.get("operator")
            if param not in _COLUMN_SET:
                raise ApiError(400, f"Unrecognised parameter {param!r}")
            if op in SCALAR_OPS:
                if "value" not in spec:
                    raise ApiError(422, f"Operator {op} needs a value")
                clauses.append(f"{param} {SCALAR_OPS[op]} ?")
                args.append(_db_value(param, spec["value"]))
            elif op in VECTOR_OPS:
                values = spec.get("values")
                if not isinstance(values, list):
                    raise ApiError(422, f"Operator {op} needs a list of values")
                if not values:
                    clauses.append("0" if op == "in" else "1")
                    continue
                if len(values) == 1:  # lets SQLite walk an index in JobID order, no sort
                    clauses.append(f"{param} {'=' if op == 'in' else '!='} ?")
                    args.append(_db_value(param, values[0]))
                    continue
                # json_each keeps the statement small whatever the number of values.
                clauses.append(f"{param} {VECTOR_OPS[op]} (SELECT value FROM json_each(?))")
                args.append(json.dumps([_db_value(param, v) for v in values]))
            else:
                raise ApiError(422, f"Unknown operator {op!r}")
        if not clauses:
            return "", args
        # Jobs searched by name (a project's scouts, a submission's reconciliation) are a few
        # among many: without statistics SQLite would read the whole project through
        # jobs_group_owner (30 ms for 100,000 jobs) rather than look the names up.
        by_name = any(spec["parameter"] == "JobName" and (spec["operator"] == "eq" or spec["operator"] == "in"
                                                           and spec["values"]) for spec in search)  # fmt: skip
        return (" INDEXED BY jobs_name" if by_name else "") + " WHERE " + " AND ".join(clauses), args

    def query(self, parameters: list[str] | None, search: list[dict[str, Any]], sort: list[dict[str, Any]], *,
              distinct: bool = False, page: int = 1, per_page: int = 100) -> Query:  # fmt: skip
        """A search (DiracX's body and paging) checked and turned into SQL; :meth:`page` or
        :meth:`page_json` runs it."""
        params = list(parameters) if parameters else list(COLUMNS)
        pseudo = tuple(p for p in PSEUDO_PARAMETERS if p in params)
        if pseudo:
            params = ["JobID"] + [p for p in params if p not in PSEUDO_PARAMETERS]
        unknown = {p for p in params if p not in _COLUMN_SET}
        if unknown:
            raise ApiError(400, f"Unrecognised parameters requested {unknown}")
        params = list(dict.fromkeys(params))
        per_page = max(1, min(int(per_page), MAX_PER_PAGE))
        page = max(1, int(page))
        where, args = self._where(search)
        order = []
        for spec in sort or []:
            p, direction = spec.get("parameter"), str(spec.get("direction", "asc")).lower()
            if p not in _COLUMN_SET or direction not in ("asc", "desc"):
                raise ApiError(400, f"Invalid sort specification {spec}")
            order.append(f"{p} {direction.upper()}")
        order_sql = (" ORDER BY " + ", ".join(order)) if order else " ORDER BY JobID"
        cols = ", ".join(params)
        select = "SELECT DISTINCT" if distinct else "SELECT"
        count = (f"SELECT COUNT(*) FROM (SELECT DISTINCT {cols} FROM jobs{where})" if distinct
                 else f"SELECT COUNT(*) FROM jobs{where}")  # fmt: skip
        rows = f"{select} {cols} FROM jobs{where}{order_sql} LIMIT ? OFFSET ?"
        return Query(params, pseudo, count, rows, [*args], [*args, per_page, (page - 1) * per_page])

    def page(self, q: Query) -> tuple[int, list[dict[str, Any]]]:
        """(total matches, the requested page of rows)."""
        params = q.params
        with self.db.read() as c:
            total = self._count(c, q.count_sql, q.count_args)
            cursor = c.cursor()
            cursor.row_factory = None  # plain tuples: the page is built with one zip per row
            rows = cursor.execute(q.rows_sql, q.rows_args).fetchall()
            result = [dict(zip(params, r)) for r in rows]  # noqa: B905 - same length by construction
            for name in _BOOL_COLUMNS:
                if name in params:
                    for r in result:
                        r[name] = bool(r[name])
            pseudo = q.pseudo
            if "LoggingInfo" in pseudo and result:
                history = self.logging_records(c, [r["JobID"] for r in result])
                for r in result:
                    r["LoggingInfo"] = history.get(r["JobID"], [])
            if "JDL" in pseudo and result:
                texts = self._by_job(c, "SELECT JobID, JDL FROM job_jdls WHERE JobID IN ({})", result)
                for r in result:
                    r["JDL"] = texts.get(r["JobID"], [None])[0]
            if "JobParameters" in pseudo and result:
                found = self._by_job(c, "SELECT JobID, Name, Value FROM job_parameters WHERE JobID IN ({})", result)
                for r in result:
                    r["JobParameters"] = dict(found.get(r["JobID"], []))
        return total, result

    def page_json(self, q: Query, keys: dict[str, str] | None = None,
                  columns: bool = False) -> tuple[int, int, bytes, bytes | None] | None:  # fmt: skip
        """:meth:`page`'s rows already as JSON, written by SQLite (its JSON functions): (total
        matches, rows on the page, the page, its jobs per status or None). A page of 10,000 jobs
        comes at twice the speed, without a Python object per value. None where SQLite has no
        JSON functions, or for the pseudo-parameters such as ``LoggingInfo`` (then use :meth:`page`).

        gb2's extensions, for a client that prints pages as they come (their jobs per status,
        ``{"Running": 3}`` in JSON, come with either when ``Status`` is asked):
        ``keys`` (``Gb2-Row-Keys``, see :func:`row_keys`) names the rows' keys (``{"JobID": "job_id"}``);
        ``columns`` (``Gb2-Page-Shape: columns``) sends one list per parameter instead of one
        object per job (``{"JobID": [1, 2], "Status": ["Done", "Failed"]}``), which a table
        takes as it is."""
        if q.pseudo or not _sqlite_json():
            return None
        keys = keys or {}

        def value(p: str) -> str:
            return f"json(CASE WHEN {p} THEN 'true' ELSE 'false' END)" if p in _BOOL_COLUMNS else p

        if columns:
            body_sql = "json_object(" + ", ".join(f"'{keys.get(p, p)}', json_group_array({value(p)})"
                                                  for p in q.params) + ")"  # fmt: skip
        else:
            body_sql = "json_group_array(json_object(" + ", ".join(f"'{keys.get(p, p)}', {value(p)}"
                                                                  for p in q.params) + "))"  # fmt: skip
        with self.db.read() as c:
            total = self._count(c, q.count_sql, q.count_args)
            if (keys or columns) and "Status" in q.params:  # one pass over the page for both
                count, body, counts = c.execute(
                    f"WITH page AS MATERIALIZED ({q.rows_sql}) SELECT (SELECT COUNT(*) FROM page), "
                    f"(SELECT {body_sql} FROM page), (SELECT json_group_object(Status, n) "
                    "FROM (SELECT Status, COUNT(*) AS n FROM page GROUP BY Status))", q.rows_args).fetchone()  # fmt: skip
                return total, int(count), body.encode(), counts.encode()
            count, body = c.execute(f"SELECT COUNT(*), {body_sql} FROM ({q.rows_sql})", q.rows_args).fetchone()
        return total, int(count), body.encode(), None

    def _count(self, c: sqlite3.Connection, sql: str, args: list[Any]) -> int:
        """A search's number of matches, counted again only when the database changed: the
        pages of one listing (ten for 100,000 jobs) each carry the total. Kept per connection,
        whose ``data_version`` changes with other connections' commits and ``total_changes``
        with its own."""
        cache: dict = self._counts.__dict__.setdefault("cache", {})
        version = (c.execute("PRAGMA data_version").fetchone()[0], c.total_changes)
        key = (sql, tuple(args))
        found = cache.get(key)
        if found is not None and found[0] == version:
            return found[1]
        total = int(c.execute(sql, args).fetchone()[0])
        if len(cache) > 64:
            cache.clear()
        cache[key] = (version, total)
        return total

    @staticmethod
    def _by_job(c: sqlite3.Connection, sql: str, rows: list[dict[str, Any]]) -> dict[int, list[Any]]:
        """Rows of a per-job table for the jobs of a page: job id -> its other columns (one
        value, or a tuple of several)."""
        out: dict[int, list[Any]] = {}
        ids = [r["JobID"] for r in rows]
        for chunk in _chunks(ids, 900):
            for row in c.execute(sql.format(",".join("?" * len(chunk))), chunk):
                rest = tuple(row)[1:]
                out.setdefault(row[0], []).append(rest[0] if len(rest) == 1 else rest)
        return out

    def logging_records(self, c: sqlite3.Connection, job_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        out: dict[int, list[dict[str, Any]]] = {}
        for chunk in _chunks(job_ids, 900):
            marks = ",".join("?" * len(chunk))
            for r in c.execute(
                f"SELECT * FROM job_logging WHERE JobID IN ({marks}) ORDER BY JobID, StatusTime, Seq", chunk
            ):
                out.setdefault(r["JobID"], []).append(
                    {
                        "Status": r["Status"],
                        "MinorStatus": r["MinorStatus"],
                        "ApplicationStatus": r["ApplicationStatus"],
                        "StatusTime": r["StatusTime"],
                        "Source": r["Source"],
                    }
                )
        return out

    def summary(self, grouping: list[str], search: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not grouping or any(g not in _COLUMN_SET for g in grouping):
            raise ApiError(400, f"Unrecognised grouping {grouping}")
        cols = ", ".join(grouping)
        where, args = self._where(search)
        rows = self.db.execute(f"SELECT {cols}, COUNT(*) AS count FROM jobs{where} GROUP BY {cols}", args)
        return [_row_dict(r, [*grouping, "count"]) for r in rows]

    # -- status changes --------------------------------------------------------------
    def set_statuses(
        self,
        changes: dict[int, dict[str, dict[str, Any]]],
        *,
        force: bool = False,
        extra: dict[int, dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Apply timestamped status updates with DIRAC's state machine (DiracX's set_job_statuses)."""
        parsed: dict[int, list[tuple[datetime, dict[str, Any]]]] = {}
        for job_id, updates in changes.items():
            if not isinstance(updates, dict) or not updates:
                raise ApiError(422, f"Invalid status update for job {job_id}")
            items = []
            for ts, update in updates.items():
                if not isinstance(update, dict):
                    raise ApiError(422, f"Invalid status update for job {job_id}")
                fields = {k: v for k, v in update.items() if v is not None}
                fields.setdefault("Source", "Unknown")
                items.append((parse_ts(ts), fields))
            parsed[int(job_id)] = sorted(items, key=lambda x: x[0])
        success: dict[str, Any] = {}
        failed: dict[str, Any] = {}
        kill_ids: list[int] = []
        with self.db.write() as c:
            for job_id, updates in parsed.items():
                row = c.execute(
                    "SELECT Status, StartExecTime, EndExecTime FROM jobs WHERE JobID=?", (job_id,)
                ).fetchone()
                if row is None:
                    failed[str(job_id)] = {"detail": "Not found"}
                    continue
                result = self._apply_updates(c, job_id, row, updates, force, (extra or {}).get(job_id, {}))
                success[str(job_id)] = result
                if result.get("Status") in (DELETED, KILLED):
                    kill_ids.append(job_id)
            for job_id in kill_ids:
                c.execute("INSERT INTO job_commands (JobID, Command) VALUES (?, 'Kill')", (job_id,))
        return {"success": success, "failed": failed}

    def _apply_updates(
        self,
        c: sqlite3.Connection,
        job_id: int,
        row: sqlite3.Row,
        updates: list[tuple[datetime, dict[str, Any]]],
        force: bool,
        extra: dict[str, Any],
    ) -> dict[str, Any]:
        current = row["Status"]
        if current == STALLED:
            current = RUNNING  # an update to a Stalled job means it is alive again
        last = c.execute(
            "SELECT MAX(StatusTime) FROM job_logging WHERE JobID=? AND Status != 'idem'", (job_id,)
        ).fetchone()[0]
        last_time = parse_ts(last) if last else datetime.min.replace(tzinfo=timezone.utc)
        start, end = row["StartExecTime"], row["EndExecTime"]
        data: dict[str, Any] = {}
        new_status = new_minor = new_app = None
        if updates[-1][0] >= last_time:
            for ts, fields in updates:
                if ts < last_time:
                    continue
                status = fields.get("Status", current)
                if status != current:
                    if not force:
                        allowed = next_state(current, status)
                        if allowed != status:
                            fields["Status"] = allowed
                            fields["Source"] = fields["Source"] + "(SM)"
                            status = allowed
                    current = status
                new_status = status
                new_minor = fields.get("MinorStatus", new_minor)
                new_app = fields.get("ApplicationStatus", new_app)
            if new_status:
                data.update(extra)
                data["Status"] = new_status
                data["LastUpdateTime"] = now_ts()
            if new_minor:
                data["MinorStatus"] = new_minor
            if new_app:
                data["ApplicationStatus"] = new_app
        status_so_far = row["Status"]
        for ts, fields in updates:
            status_so_far = fields.get("Status", status_so_far)
            if fields["Source"].startswith("Job") or fields["Source"] == "Heartbeat":
                data["HeartBeatTime"] = format_ts(ts)
            if not start and status_so_far == RUNNING:
                start = data["StartExecTime"] = format_ts(ts)
            elif not end and status_so_far in _FINAL_FOR_END_TIME:
                end = data["EndExecTime"] = format_ts(ts)
        if data:
            sets = ", ".join(f"{k}=?" for k in data)
            c.execute(f"UPDATE jobs SET {sets} WHERE JobID=?", (*data.values(), job_id))
        c.executemany(
            "INSERT INTO job_logging (JobID, Status, MinorStatus, ApplicationStatus, StatusTime, Source)"
            " VALUES (?,?,?,?,?,?)",
            [
                (
                    job_id,
                    f.get("Status", "idem"),
                    f.get("MinorStatus", "idem"),
                    f.get("ApplicationStatus", "idem"),
                    format_ts(ts),
                    f["Source"],
                )
                for ts, f in updates
            ],
        )
        keys = ("Status", "MinorStatus", "ApplicationStatus", "HeartBeatTime", "StartExecTime", "EndExecTime", "LastUpdateTime")
        return {k: data.get(k) for k in keys} | {k: v for k, v in data.items() if k not in keys}

    def set_status_now(self, job_ids: Iterable[int], status: str | None, minor: str | None,
                       app: str | None = None, source: str = "JobManager", force: bool = False) -> dict[str, Any]:
        """Convenience for the engine: one update stamped now for several jobs."""
        update = {k: v for k, v in (("Status", status), ("MinorStatus", minor), ("ApplicationStatus", app),
                                    ("Source", source)) if v is not None}  # fmt: skip
        ts = now_ts()
        return self.set_statuses({int(j): {ts: dict(update)} for j in job_ids}, force=force)

    # -- heartbeats and commands -----------------------------------------------------
    def heartbeat(self, data: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
        ids = [int(j) for j in data]
        rows = self._rows("SELECT JobID, Status FROM jobs WHERE JobID IN ({})", ids)
        if len(rows) != len(ids):
            raise ApiError(400, f"Failed to lookup job IDs: {sorted(ids)}")
        revive = [r["JobID"] for r in rows if r["Status"] in (MATCHED, STALLED)]
        if revive:
            self.set_status_now(revive, RUNNING, None, source="Heartbeat")
        ts = now_ts()
        with self.db.write() as c:
            others = [j for j in ids if j not in revive]
            c.executemany("UPDATE jobs SET HeartBeatTime=? WHERE JobID=?", [(ts, j) for j in others])
            params = [
                (int(j), k, json.dumps(v) if not isinstance(v, str) else v)
                for j, values in data.items()
                for k, v in (values or {}).items()
                if v is not None
            ]
            c.executemany("INSERT OR REPLACE INTO job_parameters VALUES (?,?,?)", params)
        return self.pop_commands(ids)

    def pop_commands(self, job_ids: list[int]) -> list[dict[str, Any]]:
        """Pending commands for these jobs, marked as sent (DiracX's get_job_commands)."""
        out = []
        with self.db.write() as c:
            for chunk in _chunks(job_ids, 900):
                marks = ",".join("?" * len(chunk))
                rows = c.execute(
                    f"SELECT Seq, JobID, Command, Arguments FROM job_commands WHERE Status='Received' AND JobID IN ({marks})",
                    chunk,
                ).fetchall()
                c.executemany("UPDATE job_commands SET Status='Sent' WHERE Seq=?", [(r["Seq"],) for r in rows])
                out.extend({"job_id": r["JobID"], "command": r["Command"], "arguments": r["Arguments"]} for r in rows)
        return out

    # -- attributes and parameters ---------------------------------------------------
    def set_metadata(self, updates: dict[int, dict[str, Any]]) -> None:
        with self.db.write() as c:
            for job_id, values in updates.items():
                for key, value in (values or {}).items():
                    if key in _COLUMN_SET and key != "Site":
                        raise ApiError(400, f"Job attribute {key} cannot be modified through this endpoint")
                    if key == "Site":
                        c.execute("UPDATE jobs SET Site=? WHERE JobID=?", (value, int(job_id)))
                    else:
                        c.execute(
                            "INSERT OR REPLACE INTO job_parameters VALUES (?,?,?)",
                            (int(job_id), key, value if isinstance(value, str) else json.dumps(value)),
                        )

    # -- rescheduling ----------------------------------------------------------------
    def reschedule(self, job_ids: list[int], *, reset: bool = False) -> dict[str, Any]:
        """Send jobs back to Received with a new reschedule count, as DIRAC does.

        Deviation from DiracX 0.7, which applies the state machine without force and so
        leaves a Failed job Failed: here Failed, Killed, Stalled and active jobs return
        to Received (DIRAC's intended behaviour, which gbasf2 users rely on). Done and
        Completed jobs keep their status and only get the new minor status and count,
        which is what DiracX 0.7 shows.
        """
        failed: dict[str, Any] = {}
        success: dict[str, Any] = {}
        rows = {r["JobID"]: r for r in self._rows("SELECT * FROM jobs WHERE JobID IN ({})", job_ids)}
        for job_id in job_ids:
            if job_id not in rows:
                failed[str(job_id)] = {"detail": "Not found"}
        for job_id, row in rows.items():
            if not row["VerifiedFlag"]:
                failed[str(job_id)] = {
                    "detail": f"VerifiedFlag is False: Status {row['Status']}, Minor Status: {row['MinorStatus']}"
                }
                continue
            counter = 0 if reset else row["RescheduleCounter"] + 1
            if counter > self.max_rescheduling:
                self.set_status_now([job_id], FAILED, Minor.MAX_RESCHEDULING, "Unknown", force=True)
                failed[str(job_id)] = {"detail": f"Maximum number of reschedules exceeded ({self.max_rescheduling})"}
                continue
            if row["Status"] == DELETED:
                failed[str(job_id)] = {"detail": "Job is deleted"}
                continue
            movable = row["Status"] not in (DONE, COMPLETED)
            ts = now_ts()
            attrs = {"RescheduleTime": ts, "RescheduleCounter": counter}
            update = {"MinorStatus": Minor.RESCHEDULED, "ApplicationStatus": "Unknown", "Source": "JobManager"}
            if movable:
                update["Status"] = RECEIVED
            result = self.set_statuses({job_id: {ts: update}}, force=movable, extra={job_id: attrs})
            with self.db.write() as c:
                c.execute(
                    "UPDATE jobs SET RescheduleTime=?, RescheduleCounter=?, StartExecTime=NULL, EndExecTime=NULL,"
                    " HeartBeatTime=NULL WHERE JobID=?",
                    (ts, counter, job_id),
                )
                jdl_text = c.execute("SELECT JDL FROM job_jdls WHERE JobID=?", (job_id,)).fetchone()[0]
                if movable and row["Status"] in (MATCHED, RUNNING, COMPLETING, STALLED):
                    c.execute("INSERT INTO job_commands (JobID, Command) VALUES (?, 'Kill')", (job_id,))
            entry = result["success"].get(str(job_id), {})
            success[str(job_id)] = {
                "InputData": jdl_text,
                "Site": row["Site"],
                "UserPriority": row["UserPriority"],
                **attrs,
                **{k: entry.get(k) for k in ("Status", "MinorStatus", "ApplicationStatus", "HeartBeatTime",
                                             "StartExecTime", "EndExecTime", "LastUpdateTime")},  # fmt: skip
            }
            if not movable:
                success[str(job_id)]["Status"] = row["Status"]
        return {"failed": failed, "success": success}

    # -- helpers ---------------------------------------------------------------------
    def _rows(self, sql: str, ids: Iterable[int]) -> list[sqlite3.Row]:
        out: list[sqlite3.Row] = []
        c = self.db.conn()
        for chunk in _chunks(sorted({int(i) for i in ids}), 900):
            out.extend(c.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall())
        return out

    def jdl_of(self, job_id: int) -> str | None:
        rows = self.db.execute("SELECT JDL FROM job_jdls WHERE JobID=?", (job_id,))
        return rows[0][0] if rows else None


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _db_value(param: str, value: Any) -> Any:
    if param in ("JobID", "UserPriority", "RescheduleCounter"):
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    if param in _BOOL_COLUMNS:
        return 1 if value in (True, "true", "True", 1, "1") else 0
    return value


def _row_dict(row: sqlite3.Row, names: list[str]) -> dict[str, Any]:
    out = {}
    for name in names:
        value = row[name]
        if name in _BOOL_COLUMNS:
            value = bool(value)
        out[name] = value
    return out

