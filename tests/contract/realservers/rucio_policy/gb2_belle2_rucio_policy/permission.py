"""Permissions: Rucio's generic policy plus user replica registration on TMP storage.

Rucio's generic ``add_replicas`` rule lets ordinary accounts register replicas only on
RSEs whose names end in ``SCRATCHDISK``/``USERDISK``/``LOCALGROUPDISK``/``MOCK`` (ATLAS
names).  Belle II's policy instead allows it on its user storage, ``*-TMP-SE``.  gb2's
storage names include ``KEK-TMP-DISK-SE`` as well, so here any RSE with a ``TMP``
component in its name is user-writable.  Everything else (scope ownership for DIDs,
metadata, attachments; admin-only RSE management; ...) is left to the generic module:
returning ``None`` makes Rucio fall back to it.
"""

from __future__ import annotations


def _user_writable(rse: str) -> bool:
    return "TMP" in str(rse or "").upper().replace("_", "-").split("-")


def has_permission(issuer, action, kwargs, *, session=None):
    if action == "add_replicas" and _user_writable(kwargs.get("rse", "")):
        return True
    return None
