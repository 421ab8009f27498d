"""The import budget of the everyday commands: what they may load, not how long it takes.

``gb2_job_status -p P``, ``gb2_project_summary``, ``gb2_proxy_info`` and ``gb2_ds_list LPN``
answer in well under 100 ms because they load little: click, the standard library's
http.client, and the gb2 modules on their path. Each runs here for real, on a fresh
machine's embedded profile with its server warm, and the modules it loaded are checked:
only click from outside the standard library (not httpx, rich, jwt, cryptography, yaml,
tenacity...), exactly the gb2 modules listed below (never the server, the engine or the
web view), and none of the standard library's heavier modules listed in HEAVY_STDLIB.
A module added to one of these paths must be added here on purpose.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import EXAMPLES, RELEASE, UUBAR

#: gb2 modules every everyday command loads (a session on the embedded profile, one HTTP layer).
CORE = {
    "commands", "commands._entry", "commands._options", "commands._registry",
    "gb2", "gb2.client", "gb2.client.diracx", "gb2.client.http", "gb2.client.tokens", "gb2.client.transport",
    "gb2.config", "gb2.embedded", "gb2.errors", "gb2.fileio", "gb2.gc_tuning", "gb2.paths", "gb2.session",
    "gb2.ui", "gb2.ui.errors", "gb2.ui.output",
}  # fmt: skip
STATUS = {"gb2.jobs", "gb2.jobs.states", "gb2.jobs.status", "gb2.ui.reports"}
BUDGET = {
    "gb2_job_status": CORE | STATUS | {"commands.job_status"},
    "gb2_project_summary": CORE | STATUS | {"commands.project_summary"},
    "gb2_proxy_info": CORE | {"commands.proxy", "gb2.login"},
    "gb2_ds_list": CORE | {"commands.ds_list", "gb2.client.rucio", "gb2.data", "gb2.data.datasets",
                           "gb2.data.lfn", "gb2.data.replica_order"},  # fmt: skip
}
#: Third-party packages the everyday commands may load.
THIRD_PARTY = {"click"}
#: Standard-library modules they must not need (each costs milliseconds at start).
HEAVY_STDLIB = {"asyncio", "concurrent", "logging", "subprocess", "tempfile", "shutil", "tarfile", "zipfile",
                "bz2", "lzma", "sqlite3", "multiprocessing", "traceback", "hashlib", "signal", "decimal",
                "xml", "http.server", "urllib.request"}  # fmt: skip

#: Runs a tool as its console script does and writes the names of the modules it loaded.
PROBE = """
import os, sys
from commands._entry import run
code = run(sys.argv[2], sys.argv[3:])
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, "\\n".join(sorted(name for name, module in sys.modules.items() if module is not None)).encode())
os.close(fd)
sys.exit(code)
"""


def loaded_modules(tmp_path: Path, *argv: str) -> set[str]:
    listing = tmp_path / f"modules-{argv[0]}.txt"
    proc = subprocess.run([sys.executable, "-c", PROBE, str(listing), *argv], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, f"{' '.join(argv)}: {proc.stderr}"
    return set(listing.read_text().split())


def tool(*argv: str) -> subprocess.CompletedProcess:
    """A tool as a user runs it (a separate process, so that the server it starts outlives it)."""
    return subprocess.run([str(Path(sys.executable).parent / argv[0]), *argv[1:]], capture_output=True, text=True,
                          timeout=120)  # fmt: skip


@pytest.fixture
def warm_embedded(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A fresh machine (no config file): logged in on the embedded profile, one small project
    submitted, the server warm. Stopped at the end."""
    monkeypatch.delenv("GB2_PROFILE", raising=False)
    assert tool("gb2_proxy_init").returncode == 0
    project = "budget"
    submitted = tool("gbasf2", str(EXAMPLES / "ntuple_analysis.py"), "-p", project, "-s", RELEASE, "-i", UUBAR, "--force")
    assert submitted.returncode == 0, submitted.stderr
    yield project
    tool("gb2_config", "server", "stop")


def test_everyday_commands_stay_within_their_import_budget(tmp_path: Path, warm_embedded: str) -> None:
    started = subprocess.run([sys.executable, "-c", "import sys; print(*sys.modules)"], capture_output=True,
                             text=True, check=True, cwd=tmp_path)  # fmt: skip
    baseline = set(started.stdout.split())  # what the interpreter loads by itself
    commands = {
        "gb2_job_status": ["-p", warm_embedded],
        "gb2_project_summary": [],
        "gb2_proxy_info": [],
        "gb2_ds_list": [UUBAR],
    }
    for tool, args in commands.items():
        loaded = loaded_modules(tmp_path, tool, *args) - baseline
        top = {name.split(".")[0] for name in loaded}
        outside = {t for t in top if t not in sys.stdlib_module_names and t not in ("gb2", "commands")}
        assert outside <= THIRD_PARTY, f"{tool} loads {sorted(outside - THIRD_PARTY)}"
        ours = {name for name in loaded if name.split(".")[0] in ("gb2", "commands")}
        assert ours == BUDGET[tool], (f"{tool}: not in its budget {sorted(ours - BUDGET[tool])}, "
                                      f"no longer loaded {sorted(BUDGET[tool] - ours)}")  # fmt: skip
        heavy = {name for name in loaded if name in HEAVY_STDLIB or name.split(".")[0] in HEAVY_STDLIB}
        assert not heavy, f"{tool} loads {sorted(heavy)}"


def test_the_budget_catches_a_heavy_import(tmp_path: Path, warm_embedded: str) -> None:
    """The probe sees what a command loads: a proxy in the environment hands the requests
    to httpx, and the check above would then fail."""
    loaded = loaded_modules(tmp_path, "gb2_job_status", "-p", warm_embedded)
    assert "httpx" not in loaded
    env_proxy = {"HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost"}
    os.environ.update(env_proxy)
    try:
        loaded = loaded_modules(tmp_path, "gb2_job_status", "-p", warm_embedded)
    finally:
        for key in env_proxy:
            os.environ.pop(key)
    assert "httpx" in loaded


def test_a_config_file_is_read_without_yaml_once_parsed(tmp_path: Path, warm_embedded: str) -> None:
    """With a config file (any gb2_config change writes one), the first command parses it and
    keeps a JSON copy in the cache; the next ones skip the YAML parser, until the file changes."""
    assert tool("gb2_config", "site", "LCG.KEK.jp").returncode == 0
    assert "yaml" in loaded_modules(tmp_path, "gb2_job_status", "-p", warm_embedded)
    assert "yaml" not in loaded_modules(tmp_path, "gb2_job_status", "-p", warm_embedded)
    config = Path(os.environ["GB2_CONFIG_DIR"]) / "config.yaml"
    config.write_text(config.read_text().replace("LCG.KEK.jp", "LCG.DESY.de"))  # edited by hand
    shown = tool("gb2_config", "site")
    assert shown.returncode == 0 and shown.stdout.strip() == "embedded: LCG.DESY.de (set)", shown.stdout
    config.write_text("active_profile: nosuch\n")
    refused = tool("gb2_proxy_info")
    assert refused.returncode == 2 and "unknown profile 'nosuch'" in refused.stderr
