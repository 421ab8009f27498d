"""How many events a local file holds, where the file says so.

* gb2's basf2 stand-in event files carry the count in their header
  (:func:`gb2.standin.eventfile.count_events`);
* real basf2 ROOT files carry it in their FileMetaData, which basf2's
  ``b2file-metadata-show --json`` prints (``nEvents``) when basf2 is set up;
* anything else (or a ROOT file without basf2 at hand) has no known count: None.

The same sources a gb2 job uses for its outputs (basf2's job information holds
the FileMetaData too), so a file uploaded by hand is registered like one a job wrote.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

ROOT_MAGIC = b"root"
METADATA_TOOL = "b2file-metadata-show"


def events_in(path: Path) -> int | None:
    """The event count the file records, or None."""
    from gb2.standin.eventfile import MAGIC, EventFileError, count_events

    try:
        with open(path, "rb") as f:
            head = f.read(len(MAGIC))
    except OSError:
        return None
    if head == MAGIC:
        try:
            return count_events(path)
        except EventFileError:
            return None
    if head.startswith(ROOT_MAGIC):
        return _root_events(path)
    return None


def _root_events(path: Path) -> int | None:
    tool = shutil.which(METADATA_TOOL)
    if tool is None:
        return None
    try:
        proc = subprocess.run([tool, "--json", str(path)], capture_output=True, text=True, timeout=120)
        value = json.loads(proc.stdout).get("nEvents") if proc.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError, AttributeError):
        return None
    return int(value) if isinstance(value, (int, float)) else None
