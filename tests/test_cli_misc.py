"""Login commands, profiles, the umbrella, the mock server, --help and shell completion."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from commands._entry import run
from commands._generate import ROOT, command_of, help_text
from commands._generate import main as generate
from commands._registry import TOOLS
from gb2.client.tokens import token_path

BIN = Path(sys.executable).parent


# -- login ------------------------------------------------------------------------------------


def approve_in_background(stderr_path: Path, secret_file: Path, username: str = "alice") -> threading.Thread:
    """The user's browser: waits for the printed link and opens it (the server's owner
    approves: a gb2 server wants its login secret, as a real IdP wants a password)."""
    from gb2 import LOGIN_SECRET_HEADER

    def browse() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = stderr_path.read_text() if stderr_path.exists() else ""
            for line in text.splitlines():
                if "(or open " in line:
                    url = line.split("(or open ", 1)[1].rstrip(")")
                    httpx.get(f"{url}&login_hint={username}", follow_redirects=True,
                              headers={LOGIN_SECRET_HEADER: secret_file.read_text()})
                    return
            time.sleep(0.05)

    thread = threading.Thread(target=browse, daemon=True)
    thread.start()
    return thread


def proxy_init_approved(grid, tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, Path]:
    """gb2_proxy_init on the remote "test" profile, with the user approving in a browser."""
    err = tmp_path / f"stderr{len(list(tmp_path.glob('stderr*')))}.txt"  # a new file: no stale link
    env = {**os.environ, "GB2_PROFILE": "test"}
    approve_in_background(err, grid.server.settings.login_secret_path)
    with open(err, "w") as stderr:
        proc = subprocess.run([BIN / "gb2_proxy_init", *args], input="secret\n",
                              stdout=subprocess.PIPE, stderr=stderr, text=True, env=env, timeout=60)  # fmt: skip
    assert proc.returncode == 0, err.read_text()
    return proc, err


def test_proxy_init_info_destroy_on_a_remote_profile(grid, tmp_path):
    grid.run("gb2_proxy_destroy")
    proc, err = proxy_init_approved(grid, tmp_path, "-g", "belle", "-v", "48:00", "--pwstdin")
    assert "To log in, open" in err.read_text() and "enter the code" in err.read_text()
    out = proc.stdout
    assert "Username is alice" in out and "Proxy generated:" in out and "Note: -v" not in out
    for key in ("subject", "issuer", "identity", "timeleft", "DIRAC group", "path", "username", "properties", "VO"):
        assert any(line.startswith(key) for line in out.splitlines()), key
    path = token_path("test")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["access_token"] not in out  # tokens are never printed
    info = grid.run("gb2_proxy_info", "--json").json()
    assert info["username"] == "alice" and info["group"] == "belle" and info["logged_in"] is True
    assert 47 * 3600 < info["timeleft_seconds"] <= 48 * 3600  # -v caps the week the server grants
    r = grid.run("gb2_proxy_destroy")
    assert r.code == 0 and "revoked" in r.out
    assert not path.exists()
    after = grid.run("gb2_proxy_info")
    assert after.code == 3 and "not logged in" in after.err


def test_proxy_init_bad_input(grid):
    for args, message in ((["-v", "24h"], "expected HH:MM"), (["-g", "no_such_group"], "Unknown group")):
        r = grid.run("gb2_proxy_init", *args)
        assert r.code in (2, 3, 7) and message in r.err, (args, r.err)
        assert r.err.count("\n") == 1


def test_requested_validity_ends_the_login(grid, tmp_path):
    assert "Note: -v" not in proxy_init_approved(grid, tmp_path, "-v", "00:30")[0].stdout
    info = grid.run("gb2_proxy_info", "--json").json()
    assert 29 * 60 < info["timeleft_seconds"] <= 30 * 60 and info["access_token_seconds"] <= 30 * 60
    assert grid.run("gb2_job_status").code == 0
    # Half an hour later (the clock is moved by rewriting the cached deadline):
    store = json.loads(token_path("test").read_text())
    store["valid_until"] = time.time() - 1
    token_path("test").write_text(json.dumps(store))
    assert "timeleft    : 00:00:00" in grid.run("gb2_proxy_info").out
    r = grid.run("gb2_job_status")
    assert r.code == 3 and "gb2_proxy_init -v has ended" in r.err and r.err.count("\n") == 1
    big = proxy_init_approved(grid, tmp_path, "-v", "500:00")[0].stdout
    assert "Note: -v 500:00 asked for more than this server grants" in big
    assert grid.run("gb2_job_status").code == 0


def test_expired_login_is_reported(grid):
    store = json.loads(token_path("test").read_text())
    store["expires_at"] = store["refresh_expires_at"] = time.time() - 10
    token_path("test").write_text(json.dumps(store))
    info = grid.run("gb2_proxy_info")
    assert info.code == 3 and "timeleft    : 00:00:00" in info.out and "expired" in info.err
    r = grid.run("gb2_job_status")
    assert r.code == 3 and "expired" in r.err


# -- profiles and the umbrella ------------------------------------------------------------------


def test_config_profiles(grid):
    shown = grid.run("gb2_config", "--json").json()
    assert shown["active_profile"] == "test" and set(shown["profiles"]) == {"embedded", "test"}
    r = grid.run("gb2_config", "add", "kek", "--diracx", "https://diracx.example.org",
                 "--rucio", "https://rucio.example.org", "--rucio-auth", "userpass",
                 "--rucio-account", "alice", "--rucio-username", "alice", "--rucio-password-env", "PW")  # fmt: skip
    assert r.code == 0, r.err
    assert grid.run("gb2_config", "use", "kek").code == 0
    assert grid.run("gb2_config", "--json").json()["active_profile"] == "kek"
    assert "*" in [line.split()[0] for line in grid.run("gb2_config").out.splitlines()[3:] if line.split()[1:2] == ["kek"]]
    assert grid.run("gb2_config", "use", "test").code == 0
    for args, message in ((["use", "nope"], "unknown profile"), (["add", "x", "--diracx", "ftp://x", "--rucio", "http://y"], "http(s) URL"),
                          (["remove", "embedded"], "cannot remove")):  # fmt: skip
        bad = grid.run("gb2_config", *args)
        assert bad.code == 2 and message in bad.err, (args, bad.err)
    env_profile = grid.run("gb2_job_status", "--profile", "kek")
    assert env_profile.code == 3  # no password in $PW: not logged in to that profile's Rucio... nor DiracX


def test_umbrella(grid):
    listing = grid.run("gb2")
    assert listing.code == 0
    assert [line.split()[0] for line in listing.out.splitlines()] == [t for t in TOOLS if t != "gb2"]
    same = grid.run("gb2", "job_status", "--status", "Killed", "--json")
    assert same.code == 0 and same.json()["selected"] == 0
    assert grid.run("gb2", "gb2_job_status", "--status", "Killed").out.startswith("0 jobs are selected.")
    missing = grid.run("gb2", "job_status", "-p", "nothing")
    assert missing.code == 5 and missing.err == "gb2_job_status: error: no project nothing of alice: it has no jobs\n"
    bad = grid.run("gb2", "frobnicate")
    assert bad.code == 2 and "unknown tool" in bad.err


# -- the mock server ---------------------------------------------------------------------------


def test_mock_server_for_ci_smoke_tests(tmp_path):
    proc = subprocess.Popen([BIN / "gb2_mock_server", "--port", "0", "--data-dir", tmp_path / "grid", "--user", "ci",
                             "--user", "ci2", "--no-scouting"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/.well-known/openid-configuration").json()["issuer"] == url
        document = httpx.get(f"{url}/.well-known/dirac-metadata").json()
        assert document["virtual_organizations"]["belle"]["default_group"] == "belle"
        assert document["gb2"] == {"scouting": False}  # like a stock DiracX: gbasf2 holds scouted jobs itself
        # The documented way in: a profile that knows the server's login secret file.
        secret = tmp_path / "grid" / "keys" / "login-secret"
        env = {**os.environ}
        subprocess.run([BIN / "gb2_config", "add", "ci", "--diracx", url, "--rucio", f"{url}/rucio",
                        "--login-secret-file", secret, "--use"], check=True, env=env, capture_output=True)  # fmt: skip
        for args, who in (([], "ci"), (["--user", "ci2"], "ci2")):
            login = subprocess.run([BIN / "gb2_proxy_init", *args, "--json"], capture_output=True, text=True,
                                   env=env, timeout=60)  # fmt: skip
            assert login.returncode == 0, login.stderr
            assert json.loads(login.stdout)["username"] == who
        second = subprocess.run([BIN / "gb2_mock_server", "--data-dir", tmp_path / "grid"], capture_output=True, text=True, timeout=60)
        assert second.returncode == 2 and "another gb2 server" in second.stderr and second.stderr.count("\n") == 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# -- --help and completion ---------------------------------------------------------------------


def test_generated_files_are_current():
    assert generate(["--check"]) == 0


@pytest.mark.parametrize("tool", list(TOOLS))
def test_fast_help_is_clicks_help(tool, capsys):
    assert run(tool, ["--help"]) == 0
    fast = capsys.readouterr().out
    result = CliRunner().invoke(command_of(tool), ["--help"], prog_name=tool)
    assert fast == result.output == help_text(tool)


def test_help_without_importing_click():
    code = "import sys; from commands._entry import run; run('gbasf2', ['--help']); print('click' in sys.modules, 'gb2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False False"


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completion_completes_options(tmp_path):
    script = Path(__file__).resolve().parent.parent / "completions" / "gb2.bash"

    def complete(*words: str) -> list[str]:
        line = " ".join(words)
        program = (
            f"source {script}\n"
            f"COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}\n"
            f'_gb2_complete; printf "%s\\n" "${{COMPREPLY[@]}}"\n'
        )
        return subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True).stdout.split()

    assert set(complete("gb2_job_status", "--st")) == {"--status"}
    assert {"--project", "--priority"} <= set(complete("gbasf2", "--pr"))
    assert complete("gbasf2", "--input_grouping", "s") == ["site", "size"]
    assert sorted(complete("gb2", "job_")) == ["job_delete", "job_info", "job_kill", "job_output", "job_peek",
                                             "job_reschedule", "job_status"]
    assert "--failed_lfns" in complete("gb2", "ds_get", "--f")
    assert set(complete("gb2_config", "")) >= {"use", "add", "remove", "server"}
    assert "complete -o filenames -F _gb2_complete gbasf2" in script.read_text()


def test_mock_server_bad_input(tmp_path):
    for args, message in ((["--port", "70000"], "--port"), (["--workers", "0"], "--workers"),
                          (["--data-dir", str(tmp_path / "f")], "")):  # fmt: skip
        if args[0] == "--data-dir":
            (tmp_path / "f").write_text("a file, not a directory")
        r = subprocess.run([BIN / "gb2_mock_server", *args], capture_output=True, text=True, timeout=60)
        assert r.returncode == 2 and message in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr


def test_help_of_every_tool_that_asks_says_scripts_need_force():
    """A tool that asks Y/N stops without a terminal (exit 2); its --help says so."""
    asking = {tool for tool, (module, _) in TOOLS.items()
              if "confirm(" in (ROOT / (module.replace(".", "/") + ".py")).read_text()
              or "job_action_report" in (ROOT / (module.replace(".", "/") + ".py")).read_text()}  # fmt: skip
    assert asking >= {"gbasf2", "gb2_job_reschedule", "gb2_job_kill", "gb2_job_delete", "gb2_ds_get", "gb2_ds_rep",
                      "gb2_ds_rm"}  # fmt: skip
    for tool in asking - {"gb2_ds_rep_status"}:  # shares its module with gb2_ds_rep, asks nothing
        text = " ".join(help_text(tool).split())
        assert "In scripts pass" in text and "--force" in text, tool
