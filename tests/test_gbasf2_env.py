"""gb2's gbasf2-style environment, used the way b2luigi uses gbasf2's.

b2luigi sources the setup script with ``env -i HOME=$HOME bash -c 'source <file> -g
<group> > /dev/null && env'`` and runs gbasf2 commands and helper scripts (which import
``DIRAC`` and ``BelleDIRAC``) with exactly that environment. These tests do the same
against the test grid; tests/test_b2luigi.py runs b2luigi itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import EXAMPLES, UUBAR, failing_steering, submit
from tests.helpers import B2LUIGI_HELPER_CALLS

BIN = Path(sys.executable).parent

def setup_script() -> str:
    out = subprocess.run([BIN / "gb2_config", "gbasf2-setup"], capture_output=True, text=True, check=True).stdout
    return out.strip()


def gbasf2_env(home: Path, script: str | None = None) -> dict[str, str]:
    """The environment b2luigi builds: the setup script sourced in an empty environment."""
    command = f"source {script or setup_script()} -g belle > /dev/null && env"
    out = subprocess.run(["env", "-i", f"HOME={home}", "bash", "-c", command],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return dict(line.split("=", 1) for line in out.splitlines())


def in_env(env: dict[str, str], *command: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), env=env, capture_output=True, text=True, input=stdin, timeout=120)


def test_setup_script_under_env_i(tmp_path: Path) -> None:
    script = setup_script()
    assert Path(script).is_absolute() and Path(script).is_file()
    env = gbasf2_env(tmp_path)
    assert env["HOME"] == str(tmp_path)
    assert env["PATH"].split(":")[0] == str(BIN) and "." not in env["PATH"].split(":")
    compat = Path(script).parent / "python"
    assert env["PYTHONPATH"].split(":")[0] == str(compat)
    which = in_env(env, "bash", "-c", "command -v python3 gbasf2 gb2_ds_get")
    assert which.stdout.split() == [str(BIN / "python3"), str(BIN / "gbasf2"), str(BIN / "gb2_ds_get")]
    found = in_env(env, "python3", "-c", "import DIRAC, BelleDIRAC; print(DIRAC.__file__, BelleDIRAC.__file__)")
    assert found.stdout.split() == [str(compat / "DIRAC" / "__init__.py"), str(compat / "BelleDIRAC" / "__init__.py")]
    # Outside that environment the compatibility modules are nowhere on the path
    for name in ("DIRAC", "BelleDIRAC"):
        alone = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, cwd=tmp_path)
        assert alone.returncode == 1 and f"No module named '{name}'" in alone.stderr


@pytest.mark.parametrize(
    ("source", "code", "message"),
    [
        ("source {s} -g", 2, "-g needs a group name"),
        ("source {s} -g 'bad group'", 2, "invalid group name"),
        ("source {s} --proxy", 2, "unknown argument '--proxy'"),
        ("bash {s} -g belle", 2, "source this file"),
    ],
)
def test_setup_script_refuses_bad_use(tmp_path: Path, source: str, code: int, message: str) -> None:
    r = subprocess.run(["env", "-i", f"HOME={tmp_path}", "bash", "-c", source.format(s=setup_script())],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == code and message in r.stderr and r.stderr.count("\n") == 1


def test_setup_script_without_its_interpreter_says_so(tmp_path: Path) -> None:
    """A copy of the script beside no gb2 installation finds no interpreter, and says so."""
    copy = tmp_path / "gb2" / "gbasf2_env" / "setup.sh"
    copy.parent.mkdir(parents=True)
    copy.write_text(Path(setup_script()).read_text())
    r = subprocess.run(["env", "-i", f"HOME={tmp_path}", "bash", "-c", f"source {copy} -g belle && env"],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 1 and "found no Python interpreter with this gb2 installed" in r.stderr
    assert "PYTHONPATH" not in r.stdout


def test_the_dirac_apis_of_b2luigis_helpers(grid, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = gbasf2_env(home)
    secret = grid.server.settings.login_secret_path
    added = in_env(env, "gb2_config", "add", "grid", "--diracx", grid.server.url, "--rucio",
                   f"{grid.server.url}/rucio", "--login-secret-file", str(secret), "--use")  # fmt: skip
    assert added.returncode == 0, added.stderr
    helper = tmp_path / "helper.py"
    helper.write_text(B2LUIGI_HELPER_CALLS)

    def call(*args: str) -> dict:
        r = in_env(env, "python3", str(helper), *args)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    assert call("proxy")["OK"] is False  # nobody is logged in: b2luigi then runs gb2_proxy_init
    login = in_env(env, "gb2_proxy_init", "-g", "belle", "-v", "24:00", "--pwstdin", stdin="\n")
    assert login.returncode == 0 and "error" not in (login.stdout + login.stderr).lower(), login.stderr
    proxy = call("proxy")
    assert proxy["OK"] and proxy["Value"]["username"] == "alice" and proxy["Value"]["group"] == "belle"
    assert 23 * 3600 < proxy["Value"]["secondsLeft"] <= 24 * 3600

    good = submit(grid, "good", EXAMPLES / "ntuple_analysis.py", "-i", UUBAR)
    [bad] = submit(grid, "bad", failing_steering(tmp_path))
    grid.wait_project("good")
    grid.wait_project("bad")

    jobs = call("jobs", "good", "alice")
    assert jobs["OK"] and sorted(jobs["Value"]) == sorted(str(j) for j in good)
    assert all(j["Status"] == "Done" and j["ApplicationStatus"] == "Done" and j["JobGroup"] == "good"
               for j in jobs["Value"].values())  # fmt: skip
    failed = call("jobs", "bad", "alice")["Value"][str(bad)]
    assert failed["Status"] == "Failed" and failed["ApplicationStatus"] != "Done"
    assert call("jobs", "nosuchproject", "alice")["OK"] is False  # b2luigi's helper exits 3: no such project

    files = call("lfns", "good", "alice")
    assert files["OK"] and len(files["Value"]) == 3
    assert all(f.startswith("/belle/user/alice/good/sub00/ntuple_") for f in files["Value"])
    assert call("lfns", "/belle/user/alice/good/sub*/ntuple_*.root", "alice")["Value"] == files["Value"]
    assert call("lfns", "/belle/user/alice/good/sub*/other_*.root", "alice") == {"OK": True, "Value": []}
    assert call("lfns", "nosuchproject", "alice") == {"OK": True, "Value": []}


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_setup_script_in_zsh(tmp_path: Path) -> None:
    script = setup_script()
    r = subprocess.run(["env", "-i", f"HOME={tmp_path}", "zsh", "-c", f"source {script} -g belle > /dev/null && "
                        "python3 -c 'import sys, DIRAC; print(sys.executable, DIRAC.__file__)'"],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(BIN / "python3"), str(Path(script).parent / "python" / "DIRAC" / "__init__.py")]
