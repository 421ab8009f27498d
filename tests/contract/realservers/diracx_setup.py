"""Create the state of a fresh DiracX 0.7 server: signing keys, config repo, DB URLs.

Run by realservers.py with the DiracX venv's python (it imports diracx).  Input is one
JSON document on stdin::

    {"state_dir": "...", "vo": "belle", "default_group": "belle",
     "groups": {"belle": ["NormalUser"], ...},
     "users": {"alice": {"sub": "...", "groups": [...]}, ...},
     "idp_url": "http://127.0.0.1:PORT", "idp_client_id": "...",
     "global_jobs_info": true}

It writes ``<state_dir>/keystore/jwks.json`` (one Ed25519 signing key, as
``python -m diracx.logic rotate-jwk`` would), a git config repo in ``<state_dir>/cs``
(branch ``master``, file ``default.yml``, validated against DiracX's own ``Config``
model) and prints a JSON object of the ``DIRACX_DB_URL_*``/``DIRACX_OS_DB_*`` settings
for every DB registered through DiracX's entry points (SQLite files in
``<state_dir>/db``), as ``python -m diracx.db generate-local-urls`` would.

With ``"update_only": true`` it only rewrites and commits the config (used to flip
``GlobalJobsInfo`` on a running server: DiracX picks commits up within a second or so).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def build_config(spec: dict) -> dict:
    vo = spec["vo"]
    users = spec["users"]
    groups = {}
    for group, properties in spec["groups"].items():
        members = sorted(u["sub"] for u in users.values() if group in u["groups"])
        groups[group] = {"Properties": sorted(properties), "Users": members}
    return {
        "DIRAC": {},
        "Operations": {
            "Defaults": {},
            vo: {"Services": {"JobMonitoring": {"GlobalJobsInfo": bool(spec["global_jobs_info"])}}},
        },
        "Registry": {
            vo: {
                "DefaultGroup": spec["default_group"],
                "IdP": {"URL": spec["idp_url"], "ClientID": spec["idp_client_id"]},
                "Support": {"Message": "gb2 contract-test server"},
                "Groups": groups,
                "Users": {u["sub"]: {"PreferedUsername": name} for name, u in users.items()},
            }
        },
    }


def write_config(repo_path: Path, config: dict, message: str) -> str:
    import git
    import yaml
    from diracx.core.config.schema import Config

    Config.model_validate(config)  # fail here, not in the server, if the layout is wrong
    if not (repo_path / ".git").exists():
        repo_path.mkdir(parents=True, exist_ok=True)
        git.Repo.init(repo_path, initial_branch="master")
    repo = git.Repo(repo_path)
    (repo_path / "default.yml").write_text(yaml.safe_dump(config, sort_keys=True))
    repo.index.add(["default.yml"])
    actor = git.Actor("gb2 realservers", "gb2-realservers@localhost")
    commit = repo.index.commit(message, author=actor, committer=actor)
    return commit.hexsha


def write_keystore(path: Path) -> None:
    from diracx.logic.__main__ import new_key
    from joserfc.jwk import KeySet

    path.parent.mkdir(parents=True, exist_ok=True)
    keyset = KeySet(keys=[new_key()])
    path.write_text(json.dumps(keyset.as_dict(private=True), indent=2))
    path.chmod(0o600)


def db_settings(db_dir: Path) -> dict[str, str]:
    from diracx.core.extensions import DiracEntryPoint, select_from_extension

    db_dir.mkdir(parents=True, exist_ok=True)
    env: dict[str, str] = {}
    for ep in select_from_extension(group=DiracEntryPoint.SQL_DB):
        env.setdefault(
            f"DIRACX_DB_URL_{ep.name.upper()}", f"sqlite+aiosqlite:///{db_dir}/{ep.name.lower()}.db"
        )
    for ep in select_from_extension(group=DiracEntryPoint.OS_DB):
        dsn = f"sqlite+aiosqlite:///{db_dir}/{ep.name.lower()}.db"
        env.setdefault(f"DIRACX_OS_DB_{ep.name.upper()}", json.dumps({"sqlalchemy_dsn": dsn}))
    return env


def main() -> None:
    spec = json.load(sys.stdin)
    state = Path(spec["state_dir"])
    config = build_config(spec)
    if spec.get("update_only"):
        sha = write_config(state / "cs", config, "Update by realservers.py")
        print(json.dumps({"cs_revision": sha}))
        return
    write_keystore(state / "keystore" / "jwks.json")
    sha = write_config(state / "cs", config, "Belle II registry for gb2 contract tests")
    print(json.dumps({"cs_revision": sha, "db_env": db_settings(state / "db")}))


if __name__ == "__main__":
    main()
