"""The Dataset Searcher on the command line: what gb2_ds_search does.

Official datasets carry the Dataset Searcher's metadata as Rucio JSON metadata
(keys in :data:`gb2.data.lfn.DATASET_META_KEYS`), so a search is one streamed
``/dids/{scope}/dids/search`` per scope, filtered by the server. gbasf2's flags map
to those keys; experiment and run take a number or an inclusive range ``A-B``;
text values take ``*`` wildcards.
"""

from __future__ import annotations

import re
from typing import Any

from gb2.client.rucio import RucioClient
from gb2.data.lfn import scope_for
from gb2.errors import BadInput, NotFound

#: gbasf2 flag (without --) -> catalogue key.
DATASET_FLAGS: dict[str, str] = {
    "data_type": "data_type",
    "campaign": "campaign_name",
    "beam_energy": "beam_energy",
    "mc_event": "mc_event_type",
    "bkg_level": "bkg_level",
    "skim_decay": "skim_decay",
    "general_skim": "general_skim",
    "data_level": "data_level",
    "release": "release",
    "global_tag": "global_tag",
    "exp": "experiment",
    "run": "run",
    "prod": "prod_id",
}
NUMERIC = frozenset({"experiment", "run", "prod_id"})
RANGE_RE = re.compile(r"^(\d+)(?:-(\d+))?$")
#: Experiment, run and production numbers are stored as 64-bit integers.
MAX_NUMBER = 2**63 - 1
COLLECTION_ROOT = "/belle/collection"
USER_ROOT = "/belle/user/"


def _numeric(key: str, text: str) -> dict[str, int]:
    m = RANGE_RE.match(text.strip().lower().removeprefix("prod").removeprefix("e").removeprefix("r"))
    if not m:
        raise BadInput(f"{key}: expected a number or a range A-B, not {text!r}")
    low, high = int(m.group(1)), m.group(2)
    if max(low, int(high or 0)) > MAX_NUMBER:
        raise BadInput(f"{key}: {text!r} is out of range (at most {MAX_NUMBER})")
    if high is None:
        return {key: low}
    if int(high) < low:
        raise BadInput(f"{key}: empty range {text!r}")
    return {f"{key}.gte": low, f"{key}.lte": int(high)}


def dataset_filters(criteria: dict[str, str | None]) -> dict[str, Any]:
    """Rucio filters from gbasf2's flags; at least one criterion is needed."""
    filters: dict[str, Any] = {}
    for flag, value in criteria.items():
        if value in (None, ""):
            continue
        key = DATASET_FLAGS[flag]
        if key in NUMERIC:
            filters.update(_numeric(key, str(value)))
        elif key == "data_type":
            if str(value).lower() not in ("mc", "data"):
                raise BadInput(f"--data_type must be mc or data, not {value!r}")
            filters[key] = str(value).lower()
        else:
            filters[key] = str(value)
    if not filters:
        raise BadInput("give at least one criterion, e.g. --data_type mc --campaign MC15ri_b --mc_event uubar")
    return filters


def search_datasets(rucio: RucioClient, criteria: dict[str, str | None]) -> list[str]:
    """Dataset LPNs matching the criteria, sorted."""
    filters = dataset_filters(criteria)
    scopes = (filters["data_type"],) if "data_type" in filters else ("mc", "data")
    return sorted(set(rucio.search_datasets(filters, scopes=scopes)))


def _collection(lpn: str) -> tuple[str, str]:
    """Official collections live under /belle/collection/, users' own under
    /belle/user/<name>/collection/ (see :mod:`gb2.data.user_collections`)."""
    lpn = lpn.rstrip("/")
    if not lpn.startswith((COLLECTION_ROOT + "/", USER_ROOT)):
        raise BadInput(f"{lpn!r} is not a collection: collections live under {COLLECTION_ROOT}/ "
                       "(yours under /belle/user/<you>/collection/)")  # fmt: skip
    return scope_for(lpn), lpn


def list_collections(rucio: RucioClient, pattern: str = "*") -> list[str]:
    """Collection LPNs matching a glob (relative globs are taken under /belle/collection/;
    ``/belle/user/<you>/collection/*`` lists your own)."""
    if not pattern.startswith("/"):
        pattern = f"{COLLECTION_ROOT}/{pattern}"
    prefix = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
    scope = scope_for(prefix if pattern.startswith(USER_ROOT) else f"{COLLECTION_ROOT}/x")
    return sorted(rucio.search_dids(scope, {"name": pattern}, did_type="container"))


def collection_datasets(rucio: RucioClient, lpn: str) -> list[str]:
    scope, name = _collection(lpn)
    try:
        return sorted(c["name"] for c in rucio.list_content(scope, name))
    except NotFound:
        raise NotFound(f"no collection {name}") from None


def collection_metadata(rucio: RucioClient, lpn: str) -> dict[str, Any]:
    scope, name = _collection(lpn)
    try:
        return rucio.get_metadata(scope, name, plugin="JSON")
    except NotFound:
        raise NotFound(f"no collection {name}") from None
