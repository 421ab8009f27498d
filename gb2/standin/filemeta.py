"""File metadata in the shape of basf2's FileMetaData, stored in every event file written.

Keys follow basf2's ``FileMetaData::getJsonStr`` (LFN, nEvents, experiment/run/event
low and high, parents, randomSeed, release, isMC, mcEvents, globalTag,
dataDescription, steering, date, site, user). ``date``, ``site`` and ``user`` are
left empty so that the same job writes byte-identical files.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gb2.standin import STANDIN_VERSION

RELEASE = f"gb2-standin-{STANDIN_VERSION}"


def event_range(
    events: Iterable[dict[str, Any]],
) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """Lowest and highest (experiment, run, event) of some events; zeros if there are none."""
    keys = [(e.get("experiment", 0), e.get("run", 0), e.get("event", 0)) for e in events]
    if not keys:
        return (0, 0, 0), (0, 0, 0)
    return min(keys), max(keys)


def file_metadata(
    *,
    lfn: str,
    n_events: int,
    low: tuple[int, int, int],
    high: tuple[int, int, int],
    parents: list[str],
    random_seed: str,
    is_mc: bool,
    mc_events: int,
    data_description: dict[str, str],
    steering: str = "",
) -> dict[str, Any]:
    return {
        "LFN": lfn,
        "nEvents": n_events,
        "experimentLow": low[0],
        "runLow": low[1],
        "eventLow": low[2],
        "experimentHigh": high[0],
        "runHigh": high[1],
        "eventHigh": high[2],
        "parents": list(parents),
        "date": "",
        "site": "",
        "user": "",
        "randomSeed": random_seed,
        "release": RELEASE,
        "isMC": is_mc,
        "mcEvents": mc_events,
        "globalTag": "",
        "dataDescription": dict(data_description),
        "steering": steering,
    }
