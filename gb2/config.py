"""Profiles: which grid gb2 talks to.

``~/.config/gb2/config.yaml`` (``$GB2_CONFIG_DIR``) holds named profiles and the
active one. The default profile ``embedded`` needs no setup: the embedded server
and engine start on demand on this machine. A ``remote`` profile points at real
DiracX and Rucio servers::

    active_profile: embedded
    profiles:
      embedded: {type: embedded}
      kek:
        type: remote
        diracx_url: https://diracx.example.org
        rucio_url: https://rucio.example.org
        rucio_auth: token            # or userpass
        rucio_account: alice         # userpass only
        rucio_username: alice
        rucio_password_env: GB2_RUCIO_PASSWORD
        site: LCG.KEK.jp             # where you are: replicas there are read first

``GB2_PROFILE`` selects a profile for one command.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gb2 import LOGIN_SECRET_FILE
from gb2.errors import BadInput, Gb2Error
from gb2.fileio import write_atomic
from gb2.paths import cache_dir, config_dir, data_dir, private_dir

EMBEDDED = "embedded"
PROFILE_TYPES = ("embedded", "remote")
REMOTE_KEYS = (
    "diracx_url", "rucio_url", "rucio_auth", "rucio_account", "rucio_username",
    "rucio_password_env", "rucio_password_file", "login_secret_file", "group", "idle_timeout", "port", "site",
)  # fmt: skip
#: Profile names become file names (token cache, server folder): no separators, no dot-only names.
PROFILE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SITE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def check_profile_name(name: object) -> str:
    if not isinstance(name, str) or not PROFILE_NAME_RE.match(name):
        shown = str(name).encode("unicode_escape").decode()
        raise BadInput(f"invalid profile name {shown!r}: use letters, digits and -_. (at most 64, no separators)")
    return name


@dataclass
class Profile:
    name: str
    type: str = "embedded"
    diracx_url: str | None = None
    rucio_url: str | None = None
    rucio_auth: str = "token"
    rucio_account: str | None = None
    rucio_username: str | None = None
    rucio_password_env: str | None = None
    rucio_password_file: str | None = None
    #: a gb2 server (gb2_mock_server) only: the server's login secret file, which
    #: approves gb2_proxy_init without a browser (see the README's security model).
    login_secret_file: str | None = None
    group: str = "belle"
    #: embedded only: seconds without requests or jobs before the server stops itself.
    idle_timeout: int = 900
    #: embedded only: preferred port (0: any free port).
    port: int = 0
    #: the DIRAC site this machine belongs to (e.g. LCG.KEK.jp): replicas there are read
    #: first. None: guessed from the machine's domain name (see gb2.data.replica_order).
    site: str | None = None
    #: ``--wait --notify``: a URL that gets a JSON POST when a project ends or fails too much
    #: (a desktop notification is sent too where ``notify-send`` is available).
    notify_webhook: str | None = None
    #: ``--wait --notify``: notify once the failure rate of the ended jobs passes this.
    notify_failure_rate: float = 0.2
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_profile_name(self.name)

    @property
    def embedded(self) -> bool:
        return self.type == "embedded"

    @property
    def login_secret(self) -> Path | None:
        """Where the secret that approves this profile's logins lives (a gb2 server only)."""
        if self.embedded:
            return self.server_dir / LOGIN_SECRET_FILE
        return Path(self.login_secret_file).expanduser() if self.login_secret_file else None

    @property
    def server_dir(self) -> Path:
        """State of this profile's embedded server."""
        return data_dir() / ("server" if self.name == EMBEDDED else f"server-{self.name}")

    def rucio_password(self) -> str | None:
        if self.rucio_password_env and os.environ.get(self.rucio_password_env):
            return os.environ[self.rucio_password_env]
        if self.rucio_password_file:
            return Path(self.rucio_password_file).expanduser().read_text().strip()
        return None

    def validate(self) -> Profile:
        if self.notify_webhook is not None and not str(self.notify_webhook).startswith(("http://", "https://")):
            raise BadInput(f"profile {self.name}: notify_webhook must be an http(s) URL")
        if not 0 < float(self.notify_failure_rate) <= 1:
            raise BadInput(f"profile {self.name}: notify_failure_rate must be a fraction above 0, at most 1")
        if self.site is not None and not SITE_NAME_RE.match(str(self.site)):
            raise BadInput(f"profile {self.name}: invalid site {self.site!r} (a DIRAC site name such as LCG.KEK.jp)")
        if self.type not in PROFILE_TYPES:
            raise BadInput(f"profile {self.name}: type must be one of {', '.join(PROFILE_TYPES)}")
        if self.type == "remote":
            for key in ("diracx_url", "rucio_url"):
                value = getattr(self, key)
                if not value or not value.startswith(("http://", "https://")):
                    raise BadInput(f"profile {self.name}: {key} must be an http(s) URL")
            if self.rucio_auth not in ("token", "userpass"):
                raise BadInput(f"profile {self.name}: rucio_auth must be token or userpass")
            if self.rucio_auth == "userpass" and not (self.rucio_account and self.rucio_username):
                raise BadInput(f"profile {self.name}: userpass needs rucio_account and rucio_username")
        return self

    def to_yaml(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k not in ("name", "extra") and v is not None}
        defaults = asdict(Profile(self.name, self.type))
        return {k: v for k, v in data.items() if k == "type" or v != defaults.get(k)} | self.extra


def config_path() -> Path:
    return config_dir() / "config.yaml"


#: Keys of a profile and their types; ``diracx``/``rucio`` (gb2_config add's flag names)
#: are accepted for ``diracx_url``/``rucio_url``.
KEY_TYPES: dict[str, type] = {key: str for key in REMOTE_KEYS} | {"type": str, "idle_timeout": int, "port": int,
                                                                   "notify_webhook": str, "notify_failure_rate": float}
ALIASES = {"diracx": "diracx_url", "rucio": "rucio_url"}


def profile_from_yaml(path: Path, name: str, values: object) -> Profile:
    """One profile of the config file, its keys checked for their types. A profile that
    names servers but no type is a remote one (not the embedded grid)."""
    if not isinstance(values, dict):
        raise BadInput(f"{path}: profile {name} must be a mapping")
    values = {ALIASES.get(str(k), str(k)): v for k, v in values.items()}
    known = {k: v for k, v in values.items() if k in KEY_TYPES and v is not None}
    for key, value in known.items():
        expected = KEY_TYPES[key]
        accepted = (int, float) if expected is float else expected
        if not isinstance(value, accepted) or isinstance(value, bool):
            raise BadInput(f"{path}: profile {name}: {key} must be a {'number' if expected in (int, float) else 'text'}")
    if "type" not in known and ("diracx_url" in known or "rucio_url" in known):
        known["type"] = "remote"
    extra = {k: v for k, v in values.items() if k not in known and k not in KEY_TYPES}
    return Profile(name, **known, extra=extra)


@dataclass
class Config:
    active_profile: str = EMBEDDED
    profiles: dict[str, Profile] = field(default_factory=lambda: {EMBEDDED: Profile(EMBEDDED)})

    @classmethod
    def load(cls) -> Config:
        """The profiles of the config file; a file that cannot be read or understood is a
        one-line :class:`BadInput` naming the file and what is wrong, never a traceback."""
        path = config_path()
        if not path.exists():
            return cls()
        doc = _read_yaml(path)
        if not isinstance(doc, dict):
            raise BadInput(f"{path} must contain a mapping")
        entries = doc.get("profiles") or {}
        if not isinstance(entries, dict):
            raise BadInput(f"{path}: profiles must be a mapping of profile names to settings")
        profiles = {EMBEDDED: Profile(EMBEDDED)}
        for name, values in entries.items():
            profiles[str(name)] = profile_from_yaml(path, check_profile_name(name), values)
        active = doc.get("active_profile") or EMBEDDED
        if not isinstance(active, str):
            raise BadInput(f"{path}: active_profile must be a profile name")
        return cls(active, profiles)

    def save(self) -> Path:
        import yaml

        path = config_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BadInput(f"cannot create {path.parent}: {exc.strerror or exc} (see GB2_CONFIG_DIR)") from None
        doc = {
            "active_profile": self.active_profile,
            "profiles": {name: p.to_yaml() for name, p in self.profiles.items()},
        }
        return write_atomic(path, yaml.safe_dump(doc, sort_keys=False))

    def profile(self, name: str | None = None) -> Profile:
        """The named profile, else ``$GB2_PROFILE``, else the active one."""
        chosen = check_profile_name(name or os.environ.get("GB2_PROFILE") or self.active_profile)
        if chosen not in self.profiles:
            known = ", ".join(sorted(self.profiles))
            raise BadInput(f"unknown profile {chosen!r} (known: {known}); see gb2_config")
        return self.profiles[chosen].validate()


def _read_yaml(path: Path) -> object:
    """The config file's content. The last file parsed is kept as JSON in the cache dir, with
    the file's size, modification time and inode: while they match, a command reads that
    instead of importing a YAML parser (a sixth of an everyday command's time)."""
    try:
        st = path.stat()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from None
    stamp = [str(path), st.st_size, st.st_mtime_ns, st.st_ino]
    copy = cache_dir() / "config.json"
    try:
        kept = json.loads(copy.read_text())
        if isinstance(kept, dict) and kept.get("source") == stamp:
            return kept.get("doc")
    except (OSError, ValueError):
        pass
    import yaml

    try:
        text = path.read_bytes().decode()
    except IsADirectoryError:
        raise BadInput(f"{path} is a folder, not a config file") from None
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path} is not a text (YAML) file") from None
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise BadInput(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    try:
        text = json.dumps({"source": stamp, "doc": doc})
        if json.loads(text)["doc"] == doc:  # only what JSON keeps exactly (not dates, not number keys)
            private_dir(copy.parent)
            write_atomic(copy, text, mode=0o600)
    except (Gb2Error, OSError, TypeError, ValueError):
        pass  # no cache dir, or a value JSON cannot hold: parse the file next time again
    return doc


def active_profile(name: str | None = None) -> Profile:
    return Config.load().profile(name)
