"""Belle II logical names: scopes, datablocks and the metadata encoded in official paths.

Shared by the Rucio client and the embedded server so both derive the same
``scope:name`` for a path. The scope rule restates Rucio's Belle II scope
extraction (``belleii`` algorithm in Rucio's ``lib/rucio/common/utils.py``):

* ``/belle/user/<u>/...``      -> ``user.<u>`` (also ``/belle/user/<initial>/<u>/...``);
  plain ``user`` when that scope does not exist
* ``/belle/group/<area>/<g>/...`` -> ``group.<g>`` (the *second* level below
  ``group``), else ``group``
* ``/belle/MC/release*``, ``/belle/MC/{BG,build,generic,log,mcprod,prerelease}...``
  -> ``mc``; ``/belle/MC/{cert,dirac,dr3,fab,hideki,merge,migration,skim,test}...``
  -> ``mc_tmp``; otherwise ``mc`` if the level below ``MC`` contains ``release``
  and ``mc_tmp`` if it contains ``fab``/``merge``/``skim`` (and by default)
* ``/belle/Data/release*`` (or ``/belle/data/``) -> ``data``; ``/belle/Data/{fab,skim}``
  -> ``data_tmp``; ``/belle/Data/proc/release*/<db>/<campaign>/...`` -> ``data``
  except for a list of old campaigns (``proc10``, ``bucket7``, ...) -> ``data_tmp``;
  anything else below ``/belle/Data`` -> ``data_tmp``
* ``/belle/Raw/`` -> ``raw``, ``/belle/hRaw`` -> ``hraw``, ``/belle/BG/`` -> ``data``,
  ``/belle/collection...`` -> ``collection``, ``/belle/mock/`` -> ``mock``,
  ``/belle/ddm/{functional_tests,tests}/``, ``/belle/test/ddm_test`` -> ``test``,
  anything else -> ``other``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any, NamedTuple

#: Files per datablock (a directory holds at most 1000 files).
DATABLOCK_SIZE = 1000
DATABLOCK_RE = re.compile(r"^sub(\d{2,})$")
#: Rucio's Belle II DID-name pattern (``NAME`` in its ``belleii`` schema).
NAME_RE = re.compile(r"^/[A-Za-z0-9.\-_+/]{1,250}$")

#: Dataset Searcher keys, stored as Rucio generic JSON metadata on dataset LPNs
#: (containers). None collides with a Rucio DID column, so one search can use them all.
DATASET_META_KEYS: tuple[str, ...] = (
    "data_type",  # "mc" | "data"
    "data_level",  # "mdst" | "udst" | ...
    "campaign_name",  # "MC15ri_b", "proc13", ...
    "experiment",  # int
    "run",  # int
    "beam_energy",  # "4S", "10810", "4S_offres", ...
    "mc_event_type",  # "uubar", "charged", "1111540100", ...
    "bkg_level",  # "BGx1" | "BGx0"
    "skim_decay",  # "14120601"
    "general_skim",  # "hadron"
    "release",  # "release-06-00-08"
    "global_tag",  # "DB00002100"
    "prod_id",  # int, e.g. 25676
)
#: Extra keys of collections.
COLLECTION_META_KEYS: tuple[str, ...] = DATASET_META_KEYS + ("description", "int_luminosity")
#: JSON metadata key carried by job output files.
JOB_ID_KEY = "job_id"

_MC_OFFICIAL = ("BG", "build", "generic", "log", "mcprod", "prerelease", "release")
_MC_TMP = ("cert", "dirac", "dr3", "fab", "hideki", "merge", "migration", "skim", "test")
_OLD_DATA_CAMPAIGNS = frozenset({
    "GCR2c", "prod00000007", "prod6b", "proc7b", "proc8b", "Bucket4", "Bucket6test", "bucket6",
    "proc9", "bucket7", "SKIMDATAx1", "proc10Valid", "proc10", "SkimP10x1", "SkimP11x1",
    "SkimB9x1", "SkimB10x1", "SkimB11x1",
})


class Did(NamedTuple):
    """A Rucio data identifier."""

    scope: str
    name: str

    @classmethod
    def from_lfn(cls, lfn: str, scopes: Collection[str] | None = None) -> Did:
        name = normalise(lfn)
        return cls(scope_for(name, scopes), name)

    def as_dict(self) -> dict[str, str]:
        return {"scope": self.scope, "name": self.name}

    def __str__(self) -> str:
        return f"{self.scope}:{self.name}"


def normalise(lfn: str) -> str:
    """Collapse repeated slashes and drop a trailing one: catalogue names have neither."""
    name = re.sub(r"/{2,}", "/", lfn.strip())
    if len(name) > 1:
        name = name.rstrip("/")
    return name


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a canonical Belle II LFN, or None if it is one.

    Canonical: absolute, Rucio's Belle II characters only (so no NUL, control
    characters, spaces, ``%`` or ``\\``), no empty, ``.`` or ``..`` segment and no
    trailing slash. Every name that may become a path on disk (a replica on a
    storage element, a downloaded file) must pass this first, on both sides.
    """
    if not isinstance(name, str) or not NAME_RE.match(name):
        return "not an absolute name of letters, digits and ._-+/"
    segments = name[1:].split("/")
    if any(s == "" for s in segments):
        return "empty path segment (// or a trailing /)"
    if any(s in (".", "..") for s in segments):
        return "'.' or '..' path segment"
    return None


def is_valid_name(name: str) -> bool:
    return name_problem(name) is None


def _user_scope(parts: list[str], scopes: Collection[str] | None) -> str:
    def exists(scope: str) -> bool:
        return scopes is None or scope in scopes

    # /belle/user/<initial>/<user>/...: the initial level used by some sites
    if len(parts) > 4 and len(parts[3]) == 1 and parts[4] and exists(f"user.{parts[4]}"):
        return f"user.{parts[4]}"
    if len(parts) > 3 and parts[3] and exists(f"user.{parts[3]}"):
        return f"user.{parts[3]}"
    return "user"


def scope_for(lfn: str, scopes: Collection[str] | None = None) -> str:
    """The Rucio scope of a Belle II path, following Rucio's ``belleii`` extraction.

    ``scopes`` is the set of existing scopes; ``None`` assumes every ``user.<u>`` and
    ``group.<g>`` scope exists (what a client without a scope list must assume).
    """
    did = lfn
    parts = did.split("/")
    if did.startswith("/belle/mock/"):
        return "mock"
    if did.startswith("/belle/MC/"):
        if did.startswith(tuple(f"/belle/MC/{p}" for p in _MC_OFFICIAL)):
            return "mc"
        if did.startswith(tuple(f"/belle/MC/{p}" for p in _MC_TMP)):
            return "mc_tmp"
        if len(parts) > 4:
            if any(tag in parts[3] for tag in ("fab", "merge", "skim")):
                return "mc_tmp"
            if "release" in parts[3]:
                return "mc"
        return "mc_tmp"
    if did.startswith("/belle/Raw/"):
        return "raw"
    if did.startswith("/belle/hRaw"):
        return "hraw"
    if did.startswith("/belle/user/"):
        return _user_scope(parts, scopes)
    if did.startswith("/belle/group/"):
        if len(parts) > 4 and (scopes is None or f"group.{parts[4]}" in scopes):
            return f"group.{parts[4]}"
        return "group"
    if did.startswith(("/belle/data/", "/belle/Data/")):
        return _data_scope(parts)
    if did.startswith(("/belle/ddm/functional_tests/", "/belle/ddm/tests/", "/belle/test/ddm_test")):
        return "test"
    if did.startswith("/belle/BG/"):
        return "data"
    if did.startswith("/belle/collection"):
        return "collection"
    return "other"


def _data_scope(parts: list[str]) -> str:
    if len(parts) > 4:
        if parts[3] in ("fab", "skim"):
            return "data_tmp"
        if "release" in parts[3]:
            return "data"
    if len(parts) > 5 and parts[3] == "proc":
        if "release" in parts[4]:
            if len(parts) > 7 and parts[6] in _OLD_DATA_CAMPAIGNS:
                return "data_tmp"
            return "data"
        if "fab" in parts[4]:
            return "data_tmp"
    return "data_tmp"


# -- hierarchy -----------------------------------------------------------------------


def datablock(index: int) -> str:
    """``sub00``, ``sub01``, ... the datablock directory names."""
    return f"sub{index:02d}"


def is_datablock(lpn: str) -> bool:
    return bool(DATABLOCK_RE.match(normalise(lpn).rsplit("/", 1)[-1]))


def parent(lfn: str) -> str:
    return normalise(lfn).rsplit("/", 1)[0] or "/"


def basename(lfn: str) -> str:
    return normalise(lfn).rsplit("/", 1)[-1]


def official_file_name(level: str, seq: int, prod_id: int, task: int) -> str:
    """``mdst_000001_prod00025676_task10020000001.root``."""
    return f"{level}_{seq:06d}_prod{prod_id:08d}_task{task}.root"


# -- metadata encoded in official paths ----------------------------------------------

_MC_RE = re.compile(
    r"^/belle/MC/(?P<release>release-[\w-]+)/(?P<global_tag>DB\d+)/(?P<campaign_name>[^/]+)/"
    r"prod(?P<prod_id>\d+)/(?:s\d+/)?e(?P<experiment>\d+)/(?P<beam_energy>[^/]+)/r(?P<run>\d+)/"
    r"(?P<mc_event_type>[^/]+)/(?:(?P<skim_decay>\d{8})/)?(?P<data_level>mdst|udst|cdst|raw)$"
)
_DATA_RE = re.compile(
    r"^/belle/Data/(?:proc/)?(?P<release>release-[\w-]+)/(?P<global_tag>DB\d+)/"
    r"(?P<campaign_name>[^/]+)/prod(?P<prod_id>\d+)/e(?P<experiment>\d+)/(?P<beam_energy>[^/]+)/"
    r"r(?P<run>\d+)/(?:(?P<general_skim>[A-Za-z][^/]*)/(?P<skim_decay>\d{8})/)?"
    r"(?P<data_level>mdst|udst|cdst|raw)$"
)


def describe_lpn(lpn: str) -> dict[str, Any]:
    """Dataset Searcher metadata read off an official dataset LPN ({} if not one).

    Works for the MC and Data layouts of gbasf2's naming conventions; the values
    have the types stored in the catalogue (``experiment``, ``run``, ``prod_id``: int).
    """
    name = normalise(lpn)
    for data_type, pattern in (("mc", _MC_RE), ("data", _DATA_RE)):
        match = pattern.match(name)
        if match:
            meta: dict[str, Any] = {"data_type": data_type}
            for key, value in match.groupdict().items():
                if value is None:
                    continue
                meta[key] = int(value) if key in ("experiment", "run", "prod_id") else value
            if data_type == "mc":
                meta.setdefault("bkg_level", "BGx1")
            return {k: meta[k] for k in DATASET_META_KEYS if k in meta}
    return {}
