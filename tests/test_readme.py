"""The README's first command, run as written (after its install step) on the embedded default."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_blocks() -> list[str]:
    return re.findall(r"^```bash\n(.*?)\n```$", (ROOT / "README.md").read_text(), flags=re.S | re.M)


def test_readme_opens_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    first_blocks = text.split("## ", 1)[0]
    assert first_blocks.count("```bash") == 2
    main, tests = readme_blocks()[:2]
    assert main.startswith("python3 -m venv .venv && .venv/bin/pip install -q . &&")
    assert tests == "python3 -m venv .venv && .venv/bin/pip install -q '.[test]' && .venv/bin/pytest -q"


def test_readme_main_job(tmp_path):
    main = readme_blocks()[0]
    # The install is what the CI run of this suite just did; the rest runs verbatim.
    command = main[main.index("P=demo") :]
    (tmp_path / "steering_examples").symlink_to(ROOT / "steering_examples")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GB2_CONFIG_DIR": str(tmp_path / "config"),
        "GB2_CACHE_DIR": str(tmp_path / "cache"),
        "GB2_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("GB2_PROFILE", None)
    try:
        proc = subprocess.run(["bash", "-c", f"set -e; {command}"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        out = proc.stdout
        assert "Proxy generated:" in out
        assert "3 jobs submitted to project demo" in out
        assert re.search(r"demo\d+\s+\S+\s+Done\s+3\s+0\s+0\s+0", out)
        assert "download complete: every file is present and verified" in out
        assert out.count(": ntuple file, ") == 3
        downloaded = list(tmp_path.glob("demo*/sub00/ntuple_0000?_job*_00.root"))
        assert len(downloaded) == 3
        server = (tmp_path / "data" / "server" / "server.json").read_text()
        assert '"url": "http://127.0.0.1:' in server  # started on demand, still up for the next command
    finally:
        subprocess.run([Path(sys.executable).parent / "gb2_config", "server", "stop"], env=env, capture_output=True, timeout=60)
