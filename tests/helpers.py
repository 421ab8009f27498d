"""Helpers for tests: log a user in through the real device flow, build clients."""

from __future__ import annotations

from pathlib import Path

from gb2.client.diracx import DiracX
from gb2.client.tokens import TokenStore
from gb2.login import secret_approval
from gb2.server.runner import EmbeddedServer


def browser_approval(server: EmbeddedServer, username: str | None = None):
    """The 'browser' of the device flow: the server's owner approves as ``username``
    (with the login secret that only the owner can read)."""
    return secret_approval(server.settings.login_secret_path, username)


def login(server: EmbeddedServer, username: str, tmp_path, group: str = "belle") -> DiracX:
    """A DiracX client logged in as ``username`` with its own token cache."""
    store = TokenStore(tmp_path / f"tokens-{username}-{group}.json")
    dx = DiracX(server.url, store)
    dx.login(f"vo:belle group:{group}", browser_approval(server, username), interval=0.05)
    return dx


def jdl(name: str = "job", group: str = "proj", executable: str = "/bin/echo", arguments: str = "hello", **extra) -> str:
    attrs = {"Executable": executable, "Arguments": arguments, "JobName": name, "JobGroup": group, **extra}
    from gb2.jobs import jdl as codec

    return codec.dumps(attrs)


def flaky_steering(tmp_path) -> Path:  # type: ignore[no-untyped-def]
    """A steering file whose first run fails and whose later runs write ``pions.root``."""
    marker = tmp_path / "first-attempt-done"
    steering = tmp_path / "flaky.py"
    steering.write_text(
        "import os, basf2, modularAnalysis as ma\n"
        f"if not os.path.exists({str(marker)!r}):\n"
        f"    open({str(marker)!r}, 'w').close()\n"
        "    raise RuntimeError('transient failure')\n"
        "main = basf2.create_path()\n"
        "ma.inputMdstList(filelist=['x.root'], path=main)\n"
        "ma.fillParticleList('pi+:all', '', path=main)\n"
        "ma.variablesToNtuple('pi+:all', ['p'], filename='pions.root', path=main)\n"
        "basf2.process(main)\n"
    )
    return steering


def embedded_home(tmp_path: Path, idle_timeout: float) -> dict[str, str]:
    """The environment of a user on a fresh machine whose active profile is the embedded one
    (its own config, cache and data dirs under ``tmp_path``), for tools run as subprocesses."""
    import os

    import yaml

    env = {**os.environ, "GB2_CONFIG_DIR": str(tmp_path / "config"), "GB2_CACHE_DIR": str(tmp_path / "cache"),
           "GB2_DATA_DIR": str(tmp_path / "data")}  # fmt: skip
    env.pop("GB2_PROFILE", None)
    (tmp_path / "config").mkdir(exist_ok=True)
    profiles = {"embedded": {"type": "embedded", "idle_timeout": idle_timeout}}
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump({"active_profile": "embedded", "profiles": profiles}))
    return env


# The calls of b2luigi 1.3.0's helper scripts (gbasf2_proxy_info.py, gbasf2_job_status.py,
# gbasf2_ds_list.py), each printing its result as JSON; run with gb2.gbasf2_env's modules on the path.
B2LUIGI_HELPER_CALLS = """
import json, sys
from DIRAC import gLogger
from DIRAC.Core.Base import Script
from DIRAC.Core.Security.X509Chain import X509Chain
from DIRAC.Core.Security.ProxyInfo import getProxyInfo
from BelleDIRAC.gbasf2.lib.auth import userCreds
from BelleDIRAC.Client.helpers.common import initializeCS
from BelleDIRAC.gbasf2.lib.job.information_collector import InformationCollector
from BelleDIRAC.gbasf2.lib.ds.manager import Manager

gLogger.setLevel("FATAL")
Script.enableCS()
initializeCS()
what, args = sys.argv[1], sys.argv[2:]

@userCreds
def run():
    if what == "proxy":
        return getProxyInfo()
    if what == "jobs":
        collector = InformationCollector()
        found = collector.getAllJobsInProjects([args[0]], date="1970-01-01", login=[args[1], "belle"],
                                               statuses={"Status": ["all"]})
        return collector.getJobSummary(found["Value"][args[0]])
    return Manager().getLfns(dataType=None, dataset=args[0], user=args[1])

print(json.dumps(run()))
"""
