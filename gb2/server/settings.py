"""Settings of the embedded server: data dir, users and groups, engine knobs.

Users and groups mirror the DIRAC registry of the Belle II VO: one VO ``belle``,
the default group ``belle`` (NormalUser) and a job-administrator group. Further
users come from ``<data_dir>/users.yaml`` or ``--user`` options, so tests can show
that one user cannot touch another's jobs.
"""

from __future__ import annotations

import getpass
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from gb2 import DEFAULT_GROUP, LOGIN_SECRET_FILE, VO

USERNAME_RE = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")
#: Names no login may take: ``root`` is the catalogue's administrator account (as in Rucio).
RESERVED_USERNAMES = frozenset({"root"})
#: What a local Unix account named root becomes: an ordinary user like any other.
LOCAL_ROOT_USERNAME = "localroot"

DEFAULT_GROUPS: dict[str, list[str]] = {
    "belle": ["NormalUser"],
    "belle_jobadmin": ["NormalUser", "JobAdministrator"],
}

#: The basf2 releases the embedded grid offers (published at /api/config/, as a grid
#: would publish what its sites have installed; gb2_check_release lists them).
DEFAULT_RELEASES: tuple[str, ...] = (
    "release-06-00-08", "release-06-01-08", "release-06-01-11", "release-06-01-12", "release-08-01-03",
    "light-2409-toyger", "light-2511-gacrux",
)  # fmt: skip

#: Namespace for deriving a stable IdP ``sub`` from a user name.
_SUB_NAMESPACE = uuid.UUID("6f1b7c9e-3c0d-4f51-9a53-b3d2f0a1c8e4")


@dataclass(frozen=True)
class User:
    username: str
    groups: tuple[str, ...] = (DEFAULT_GROUP,)
    password: str | None = None  # only for Rucio's userpass authentication

    @property
    def sub(self) -> str:
        """The IdP subject, as DiracX puts it in tokens: ``<vo>:<idp sub>``."""
        return f"{VO}:{uuid.uuid5(_SUB_NAMESPACE, self.username)}"


def local_username() -> str:
    """The name of the person running the server, made safe for LFNs."""
    try:
        name = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        name = os.environ.get("USER", "user")
    name = re.sub(r"[^a-z0-9_.-]", "", name.lower()) or "user"
    if not USERNAME_RE.match(name):
        name = "u" + name
    if name in RESERVED_USERNAMES:
        name = LOCAL_ROOT_USERNAME
    return name[:32]


def check_username(name: str, where: str = "") -> str:
    """A configured user's name, refused if invalid or reserved for the administrator."""
    suffix = f" in {where}" if where else ""
    if not USERNAME_RE.match(name):
        raise ValueError(f"invalid user name{suffix}: {name!r} (lowercase letters, digits, _.-; at most 32)")
    if name in RESERVED_USERNAMES:
        raise ValueError(f"user name {name!r}{suffix} is reserved for the catalogue's administrator")
    return name


@dataclass
class ServerSettings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    users: list[User] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=lambda: dict(DEFAULT_GROUPS))
    vo: str = VO
    default_group: str = DEFAULT_GROUP
    #: Access tokens live 20 minutes like DiracX's; refresh tokens last a week here.
    access_token_minutes: int = 20
    refresh_token_minutes: int = 7 * 24 * 60
    #: Jobs per JDL submission call. DiracX 0.7 refuses more than 20 from a normal user; this
    #: grid takes more and publishes its limit in its configuration
    #: (``Operations/<vo>/JobDescription/MaxJobsPerSubmission``), where gb2's submitter reads it.
    max_jobs_per_submission: int = 1000
    #: Engine: parallel job slots (default: the number of cores).
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    #: A job whose wrapper has not sent a heartbeat for this long becomes Stalled ...
    stall_seconds: float = 600.0
    #: ... and a Stalled job becomes Failed after this much more.
    stalled_to_failed_seconds: float = 600.0
    heartbeat_seconds: float = 30.0
    #: Seconds between engine scheduling passes when nothing wakes it up earlier.
    engine_poll_seconds: float = 1.0
    #: DIRAC's MaxRescheduling (Operations/<vo>/Services/JobScheduling).
    max_rescheduling: int = 3
    #: DIRAC's JobDescription/MinCPUTime: shorter requests are raised to this (seconds).
    min_cpu_time: int = 100
    #: Whether normal users may see everyone's jobs in search/summary (DIRAC's GlobalJobsInfo).
    global_jobs_info: bool = True
    #: ``basf2`` command to run; None means: ``basf2`` on PATH, else gb2's stand-in.
    basf2_command: str | None = None
    #: The engine holds jobs that name scout jobs in Scouting until their scouts pass, and says so
    #: in ``/.well-known/dirac-metadata`` (False: behave like a stock DiracX, which has no scouting).
    scouting: bool = True
    #: Each user's Rucio account limit on every TMP storage element (bytes).
    user_quota_bytes: int = 10**13
    keep_workdirs: bool = False
    #: Base URL of a proxy in front of the server (e.g. ``http://127.0.0.1:9000``): storage-element,
    #: sandbox and login URLs given to requests that came through it carry it. None: the server's own.
    public_url: str | None = None
    run_engine: bool = True
    #: DIRAC's site mask: site -> why it is banned. The engine matches no job to these sites
    #: (jobs that can only run there wait); ``/api/rss/site`` publishes them.
    banned_sites: dict[str, str] = field(default_factory=dict)
    #: At most this many jobs at once at a site (its queue's MaxTotalJobs); others: ``workers`` only.
    site_slots: dict[str, int] = field(default_factory=dict)
    #: DIRAC's CPUNormalizationFactor of this machine's workers: a job's CPUTime (normalised
    #: seconds) allows CPUTime / factor seconds of real CPU.
    cpu_normalization: float = 1.0
    #: Fault injection, for tests and demonstrations: site -> ``input`` (its workers cannot read
    #: input files), ``lost`` (the worker running a job there dies: the job goes silent, then is
    #: Stalled and Failed) or ``lost:N`` (only the first N jobs of each project there).
    worker_faults: dict[str, str] = field(default_factory=dict)
    #: Each storage element's capacity in bytes (what Rucio's ``storage`` usage source reports).
    storage_capacities: dict[str, int] = field(default_factory=dict)
    default_storage_capacity: int = 10**15
    seed: bool = True
    basf2_releases: tuple[str, ...] = DEFAULT_RELEASES

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        if not self.users:
            self.users = [User(local_username())]
        for user in self.users:
            check_username(user.username)

    def storage_capacity(self, se: str) -> int:
        return int(self.storage_capacities.get(se, self.default_storage_capacity))

    @property
    def default_user(self) -> User:
        """The person at this machine: approved automatically by the device flow."""
        return self.users[0]

    def user(self, username: str) -> User | None:
        return next((u for u in self.users if u.username == username), None)

    def user_by_sub(self, sub: str) -> User | None:
        return next((u for u in self.users if u.sub == sub), None)

    def group_properties(self, group: str) -> list[str]:
        return list(self.groups.get(group, []))

    @property
    def login_secret_path(self) -> Path:
        """The secret that approves device-flow logins: readable by the server's owner only."""
        return self.data_dir / LOGIN_SECRET_FILE

    @property
    def db_path(self) -> Path:
        return self.data_dir / "gb2.sqlite"

    @property
    def se_root(self) -> Path:
        return self.data_dir / "storage"

    @property
    def sandbox_root(self) -> Path:
        return self.data_dir / "sandboxes"

    @property
    def work_root(self) -> Path:
        return self.data_dir / "work"


def load_users_file(path: Path) -> list[User]:
    """Read extra users from ``users.yaml``: ``users: [{username, groups, password}]``."""
    import yaml

    if not path.exists():
        return []
    doc = yaml.safe_load(path.read_text()) or {}
    users = []
    for entry in doc.get("users", []):
        name = check_username(str(entry["username"]), str(path))
        groups = tuple(entry.get("groups") or [DEFAULT_GROUP])
        users.append(User(name, groups, entry.get("password")))
    return users


def parse_user_option(spec: str) -> User:
    """``name[:group1,group2][:password]`` as given to ``--user``."""
    parts = spec.split(":")
    name = check_username(parts[0])
    groups = tuple(g for g in (parts[1].split(",") if len(parts) > 1 and parts[1] else []) if g)
    password = parts[2] if len(parts) > 2 else None
    return User(name, groups or (DEFAULT_GROUP,), password)
