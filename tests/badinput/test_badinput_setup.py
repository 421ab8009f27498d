"""Bad input to the set-up tools (login, config, mock server, the umbrella) and a bad
environment under any tool: unusable GB2_*_DIR, broken config files and token caches, a
server URL that answers with HTML pages, and a full disk."""

from __future__ import annotations

import pytest

from tests.badinput.conftest import CONFIGS, TOKEN_CACHES, case, check

STATUS = ("gb2_job_status", "-p", "{PROJECT}")
ADD = ("gb2_config", "add", "newprof", "--diracx", "http://a.example", "--rucio", "http://b.example")


def config_case(name: str, code: int, message: str):  # type: ignore[no-untyped-def]
    return case(*STATUS, code=code, message=message, env={"GB2_CONFIG_DIR": f"{{in}}/config-{name}"},
                id=f"config file: {name}")  # fmt: skip


def token_case(tool: str, name: str):  # type: ignore[no-untyped-def]
    args = STATUS[1:] if tool == "gb2_job_status" else ()
    return case(tool, *args, code=3, message="not logged in", env={"GB2_CACHE_DIR": f"{{in}}/cache-{name}"},
                id=f"{tool} with a token cache: {name}")  # fmt: skip


CASES = [
    # gb2_proxy_init / info / destroy
    case("gb2_proxy_init", "-v", "25", code=2, message="invalid validity"),
    case("gb2_proxy_init", "-v", "aa:bb", code=2, message="invalid validity"),
    case("gb2_proxy_init", "-v", "1:75", code=2, message="invalid validity"),
    case("gb2_proxy_init", "-v", "0:00", code=2, message="must be positive"),
    case("gb2_proxy_init", "-v", "", code=2, message="invalid validity", id="gb2_proxy_init -v empty"),
    case("gb2_proxy_init", "--user", "nobody", code=3, message="nobody"),
    case("gb2_proxy_init", "-g", "nosuchgroup", code=3, message="nosuchgroup"),
    case("gb2_proxy_init", "--profile", "html", code=5, message="HTTP 404 (text/html): 404 Not Found"),
    case("gb2_proxy_init", "--profile", "html500", code=6, message="HTTP 500 (text/html): 500 Internal Server Error"),
    case("gb2_proxy_init", "--profile", "html", "--user", "bob", code=2, message="--user works only on a gb2 server"),
    case("gb2_proxy_init", "--profile", "nosuch", code=2, message="unknown profile 'nosuch'"),
    case("gb2_proxy_init", "--bogus", code=2, message="No such option"),
    case("gb2_proxy_info", "--profile", "nosuch", code=2, message="unknown profile 'nosuch'"),
    case("gb2_proxy_info", "--profile", "html", code=3, message="not logged in"),
    case("gb2_proxy_info", "extra", code=2, message="unexpected extra argument"),
    case("gb2_proxy_destroy", "--profile", "nosuch", code=2, message="unknown profile 'nosuch'"),
    case("gb2_proxy_destroy", "--profile", "a/b", code=2, message="invalid profile name"),
    case("gb2_proxy_destroy", "--bogus", code=2, message="No such option"),
    # gb2_config
    case("gb2_config", "use", "nosuch", code=2, message="unknown profile 'nosuch'"),
    case("gb2_config", "use", code=2, message="Missing argument"),
    case("gb2_config", "frobnicate", code=2, message="No such command"),
    case("gb2_config", "add", "newprof", "--rucio", "http://b.example", code=2, message="Missing option '--diracx'"),
    case("gb2_config", "add", "newprof", "--diracx", "not a url", "--rucio", "http://b.example", code=2,
         message="diracx_url must be an http(s) URL"),
    case("gb2_config", "add", "newprof", "--diracx", "http://a.example", "--rucio", "ftp://b", code=2,
         message="rucio_url must be an http(s) URL"),
    case(*ADD, "--rucio-auth", "userpass", code=2, message="userpass needs rucio_account"),
    case(*ADD, "--rucio-auth", "kerberos", code=2, message="'kerberos' is not one of"),
    case("gb2_config", "add", "embedded", "--diracx", "http://a", "--rucio", "http://b", code=2,
         message="cannot be replaced"),
    case("gb2_config", "add", "../up", "--diracx", "http://a", "--rucio", "http://b", code=2,
         message="invalid profile name"),
    case("gb2_config", "add", "x\ny", "--diracx", "http://a", "--rucio", "http://b", code=2, message="\\n",
         id="gb2_config add newline name"),
    case("gb2_config", "remove", "nosuch", code=2, message="cannot remove profile 'nosuch'"),
    case("gb2_config", "notify", "--webhook", "ftp://hooks.example", code=2, message="notify_webhook must be an http(s) URL"),
    case("gb2_config", "notify", "--webhook", "", code=2, message="notify_webhook must be an http(s) URL",
         id="gb2_config notify --webhook empty"),
    case("gb2_config", "notify", "--failure-rate", "0", code=2, message="--failure-rate"),
    case("gb2_config", "notify", "--failure-rate", "1.5", code=2, message="--failure-rate"),
    case("gb2_config", "notify", "--profile", "nosuch", code=2, message="unknown profile 'nosuch'"),
    case("gb2_config", "remove", "embedded", code=2, message="cannot remove profile 'embedded'"),
    case("gb2_config", "server", "reboot", code=2, message="'reboot' is not one of"),
    case("gb2_config", "server", "status", "--profile", "test", code=2, message="uses remote servers"),
    # gb2_mock_server (every case fails before a server starts)
    case("gb2_mock_server", "--user", "Bad Name", code=2, message="invalid user name"),
    case("gb2_mock_server", "--user", "", code=2, message="invalid user name", id="gb2_mock_server --user empty"),
    case("gb2_mock_server", "--user", "root", code=2, message="reserved"),
    case("gb2_mock_server", "--port", "70000", code=2, message="--port"),
    case("gb2_mock_server", "--port", "http", code=2, message="--port"),
    case("gb2_mock_server", "--workers", "0", code=2, message="--workers"),
    case("gb2_mock_server", "--idle-timeout", "-1", code=2, message="--idle-timeout"),
    case("gb2_mock_server", "--data-dir", "{in}/binary.bin", code=2, message="binary.bin"),
    case("gb2_mock_server", "--data-dir", "", code=2, message="--data-dir", id="gb2_mock_server --data-dir empty"),
    case("gb2_mock_server", "--web-port", "70000", "--web", code=2, message="--web-port"),
    case("gb2_mock_server", "--fault", "LCG.KEK.jp=broken", code=2, message="the kind is input, lost or lost:N"),
    case("gb2_mock_server", "--fault", "LCG.KEK.jp=lost:x", code=2, message="the kind is input, lost or lost:N"),
    case("gb2_mock_server", "--site-slots", "LCG.KEK.jp", code=2, message="give SITE=N"),
    case("gb2_mock_server", "--cpu-normalization", "0", code=2, message="--cpu-normalization"),
    # gb2_web (every case fails before the view starts)
    case("gb2_web", "--port", "70000", code=2, message="--port"),
    case("gb2_web", "--port", "web", code=2, message="--port"),
    case("gb2_web", "--port", "-1", code=2, message="--port"),
    case("gb2_web", "extra", code=2, message="unexpected extra argument"),
    case("gb2_web", "--bogus", code=2, message="No such option"),
    case("gb2_web", "--profile", "nosuch", code=2, message="unknown profile 'nosuch'"),
    case("gb2_web", "--profile", "../x", code=2, message="invalid profile name"),
    # the umbrella
    case("gb2", "frobnicate", code=2, message="unknown tool 'frobnicate'"),
    case("gb2", "", code=2, message="unknown tool ''", id="gb2 empty tool"),
    case("gb2", "gb2", code=2, message="unknown tool 'gb2'"),
    case("gb2", "job_status", "-j", "x", code=2, message="not a number", prefix="gb2_job_status"),
    case("gb2", "ds_get", code=2, message="Missing argument", prefix="gb2_ds_get"),
    case("gb2", "gb2_job_kill", "-p", "", code=2, message="empty value", prefix="gb2_job_kill"),
    # the environment: GB2_*_DIR and GB2_PROFILE
    case(*STATUS, code=2, message="GB2_CONFIG_DIR points at", env={"GB2_CONFIG_DIR": "{in}/binary.bin"},
         id="GB2_CONFIG_DIR is a file"),
    case(*STATUS, code=2, message="GB2_CACHE_DIR points at", env={"GB2_CACHE_DIR": "{in}/binary.bin"},
         id="GB2_CACHE_DIR is a file"),
    case("gb2_config", "server", "status", "--profile", "embedded", code=2, message="GB2_DATA_DIR points at",
         env={"GB2_DATA_DIR": "{in}/binary.bin"}, id="GB2_DATA_DIR is a file"),
    case("gb2_mock_server", code=2, message="GB2_DATA_DIR points at", env={"GB2_DATA_DIR": "{in}/binary.bin"},
         id="gb2_mock_server with GB2_DATA_DIR a file"),
    case("gb2_proxy_init", code=2, message="cannot use the folder", env={"GB2_CACHE_DIR": "/proc/self/gb2"},
         id="GB2_CACHE_DIR cannot be created"),
    case(*ADD, code=2, message="cannot create", env={"GB2_CONFIG_DIR": "/proc/self/gb2"},
         id="GB2_CONFIG_DIR cannot be created"),
    case(*STATUS, code=2, message="unknown profile 'nosuch'", env={"GB2_PROFILE": "nosuch"}, id="GB2_PROFILE unknown"),
    case(*STATUS, code=2, message="invalid profile name", env={"GB2_PROFILE": "../x"}, id="GB2_PROFILE ../x"),
    # broken config files
    config_case("number", 2, "profiles must be a mapping"),
    config_case("list", 2, "profiles must be a mapping"),
    config_case("text", 2, "profiles must be a mapping"),
    config_case("binary", 2, "not a text (YAML) file"),
    config_case("folder", 2, "is a folder, not a config file"),
    config_case("yaml", 2, "is not valid YAML"),
    config_case("toplist", 2, "must contain a mapping"),
    config_case("profile-text", 2, "profile kek must be a mapping"),
    config_case("port", 2, "port must be a number"),
    config_case("not-a-url", 2, "diracx_url must be an http(s) URL"),
    config_case("type", 2, "type must be one of"),
    config_case("active-number", 2, "active_profile must be a profile name"),
    config_case("active-missing", 2, "unknown profile 'nosuch'"),
    config_case("name", 2, "invalid profile name"),
    # damaged token caches: not logged in, never a traceback
    *(token_case(tool, name) for name in TOKEN_CACHES for tool in ("gb2_job_status", "gb2_proxy_info")),
    # a full disk: the write fails whole (exit 1), nothing partial is left
    case("gb2_config", "use", "test", code=1, message="File too large", fsize=16, id="full disk: gb2_config use"),
    case("gb2_proxy_init", code=1, message="File too large", fsize=16, id="full disk: gb2_proxy_init"),
    case("gb2_ds_get", "{UUBAR}", "--force", "--failed_lfns", "failed.txt", code=1, message="failed", fsize=16,
         id="full disk: gb2_ds_get"),
]
assert set(CONFIGS) == {c.values[0].env["GB2_CONFIG_DIR"].split("config-")[1] for c in CASES
                        if c.values[0].env.get("GB2_CONFIG_DIR", "").startswith("{in}/config-")}  # fmt: skip


@pytest.mark.parametrize("bad", CASES)
def test_setup_and_environment_bad_input(world, capsys, monkeypatch, tmp_path, bad):
    check(world, capsys, monkeypatch, tmp_path, bad)
