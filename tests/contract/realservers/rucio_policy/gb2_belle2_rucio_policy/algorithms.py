"""Belle II scope extraction and LFN-to-PFN mapping, restated for gb2's test server.

Facts (from Belle II's public Rucio policy package, which Rucio >= 35 loads as an
external package; the rules are re-expressed here, not copied):

* ``/belle/user/<name>/...`` -> ``user.<name>`` when that scope exists, else ``user``;
  the hashed layout ``/belle/user/<initial>/<name>/...`` is recognised too.
* ``/belle/group/<x>/<name>/...`` -> ``group.<name>`` when it exists, else ``group``.
* ``/belle/MC/...`` -> ``mc`` for official productions (``release*``, ``generic``,
  ``BG``, ``build``, ``log``, ``mcprod``, ``prerelease``), ``mc_tmp`` for everything
  else (``skim``, ``merge``, ``fab``, ``test``, ``cert``, ``dirac``, ...).
* ``/belle/Data/...`` (or ``/belle/data/...``) -> ``data`` for ``release*`` trees and
  new-style ``proc/release*/...`` processings, ``data_tmp`` otherwise (``fab``,
  ``skim``, old-style processings).
* ``/belle/Raw/`` -> ``raw``, ``/belle/hRaw`` -> ``hraw``, ``/belle/BG/`` -> ``data``,
  ``/belle/mock/`` -> ``mock``, ``/belle/collection`` -> ``collection``, DDM test areas
  -> ``test``, anything else -> ``other``.

The returned name is always the full LFN: Belle II DIDs are named by their path.
"""

from __future__ import annotations

# Official MC trees: the first component after /belle/MC/ starts with one of these.
_MC_OFFICIAL = ("BG", "build", "generic", "log", "mcprod", "prerelease", "release")
# Temporary MC trees.
_MC_TEMPORARY = ("cert", "dirac", "dr3", "fab", "hideki", "merge", "migration", "skim", "test")
# Old-style data processings under /belle/Data/proc/release*/<x>/<campaign>/ are temporary.
_OLD_PROCESSINGS = frozenset(
    ["GCR2c", "prod00000007", "prod6b", "proc7b", "proc8b", "Bucket4", "Bucket6test", "bucket6", "proc9", "bucket7", "SKIMDATAx1", "proc10Valid", "proc10", "SkimP10x1", "SkimP11x1", "SkimB9x1", "SkimB10x1", "SkimB11x1"]
)


def _mc_scope(parts: list[str]) -> str:
    top = parts[3] if len(parts) > 3 else ""
    if top.startswith(_MC_OFFICIAL):
        return "mc"
    if top.startswith(_MC_TEMPORARY):
        return "mc_tmp"
    if len(parts) > 4:
        if any(word in top for word in ("fab", "merge", "skim")):
            return "mc_tmp"
        if "release" in top:
            return "mc"
    return "mc_tmp"


def _data_scope(parts: list[str]) -> str:
    top = parts[3] if len(parts) > 3 else ""
    if len(parts) > 4:
        if top in ("fab", "skim"):
            return "data_tmp"
        if "release" in top:
            return "data"
    if len(parts) > 5 and top == "proc":
        release = parts[4]
        if "release" in release:
            if len(parts) > 7 and parts[6] in _OLD_PROCESSINGS:
                return "data_tmp"
            return "data"
        if "fab" in release:
            return "data_tmp"
    return "data_tmp"


def belle2_scope(did: str, scopes=None) -> tuple[str, str]:
    """(scope, name) of a Belle II LFN; ``scopes`` lists the scopes that exist."""
    known = set(scopes or ())
    parts = did.split("/")
    if did.startswith("/belle/mock/"):
        return "mock", did
    if did.startswith("/belle/MC/"):
        return _mc_scope(parts), did
    if did.startswith("/belle/Raw/"):
        return "raw", did
    if did.startswith("/belle/hRaw"):
        return "hraw", did
    if did.startswith("/belle/user/"):
        candidates = []
        if len(parts) > 4 and len(parts[3]) == 1:
            candidates.append(parts[4])  # /belle/user/a/alice/...
        if len(parts) > 3:
            candidates.append(parts[3])
        for user in candidates:
            if f"user.{user}" in known:
                return f"user.{user}", did
        return "user", did
    if did.startswith("/belle/group/"):
        if len(parts) > 4 and f"group.{parts[4]}" in known:
            return f"group.{parts[4]}", did
        return "group", did
    if did.startswith(("/belle/Data/", "/belle/data/")):
        return _data_scope(parts), did
    if did.startswith(("/belle/ddm/functional_tests/", "/belle/ddm/tests/", "/belle/test/ddm_test")):
        return "test", did
    if did.startswith("/belle/BG/"):
        return "data", did
    if did.startswith("/belle/collection"):
        return "collection", did
    return "other", did


def belle2_lfn2pfn(scope, name, rse, rse_attrs, protocol_attrs) -> str:
    """Path of a replica below the protocol prefix: the LFN itself.

    Belle II storage keeps files at ``<SE prefix><LFN>``.  Rucio puts a ``/`` between
    the prefix and this path already, so the LFN's leading slash is dropped to avoid
    ``//`` in PFNs: ``/belle/user/alice/x.root`` on an RSE with prefix ``/srv/SE/``
    lives at ``/srv/SE/belle/user/alice/x.root``.
    """
    del scope, rse, rse_attrs, protocol_attrs
    return name.lstrip("/")
