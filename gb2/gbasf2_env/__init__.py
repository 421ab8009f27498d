"""A gbasf2-style environment for tools that drive gbasf2, such as b2luigi.

b2luigi (``batch_system = "gbasf2"``) sources a gbasf2 setup script under ``env -i``
and then runs the gbasf2 commands and small helper scripts that import gbasf2's
Python APIs (``DIRAC``, ``BelleDIRAC``). gb2 ships:

* ``setup.sh``: the script to source (``gb2_config gbasf2-setup`` prints its path),
  which puts gb2's interpreter and commands first on ``PATH`` and the compatibility
  modules on ``PYTHONPATH``;
* ``python/``: ``DIRAC`` and ``BelleDIRAC`` modules with exactly the calls those
  helper scripts make, implemented in :mod:`gb2.gbasf2_env.api`. The folder is not a
  package of its own: ``import DIRAC`` finds it only where ``setup.sh`` put it on the
  path, so it never shadows a real DIRAC.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETUP_SCRIPT = HERE / "setup.sh"
COMPAT_DIR = HERE / "python"
#: A tool gb2 installs; its folder is where the gb2 commands are.
PROBE_TOOL = "gb2_job_status"


def setup_script() -> Path:
    """The absolute path of the script to source (b2luigi's ``gbasf2_setup_path``)."""
    return SETUP_SCRIPT


def commands_dir() -> Path:
    """The folder of the gb2 commands of this installation (venv, --user or editable)."""
    from importlib import metadata

    try:
        files = metadata.distribution("gb2").files or []
    except metadata.PackageNotFoundError:
        files = []
    for entry in files:
        if entry.name == PROBE_TOOL:
            return Path(str(entry.locate())).resolve().parent
    import sysconfig

    return Path(sysconfig.get_path("scripts"))


def _join(first: list[str], rest: str) -> str:
    """``first`` then the entries of ``rest`` not already there; empty and ``.`` entries dropped."""
    out: list[str] = []
    for entry in [*first, *rest.split(os.pathsep)]:
        if entry and entry != "." and entry not in out:
            out.append(entry)
    return os.pathsep.join(out)


def exports(path: str, pythonpath: str) -> str:
    """The shell lines ``setup.sh`` evaluates: this interpreter and the gb2 commands first on
    ``PATH`` (the interpreter's folder is not resolved, so a venv stays a venv), the
    compatibility modules first on ``PYTHONPATH``."""
    bins = [str(Path(sys.executable).parent), str(commands_dir())]
    return (
        f"export PATH={shlex.quote(_join(bins, path))}\n"
        f"export PYTHONPATH={shlex.quote(_join([str(COMPAT_DIR)], pythonpath))}\n"
    )
