"""``DIRAC.Core.Base.Script`` (gb2 stand-in): gb2 has no configuration service to enable."""

from __future__ import annotations

from typing import Any


def enableCS() -> dict[str, Any]:  # noqa: N802 - DIRAC's name
    """Accepted: gb2 reads the active profile from its config file when it first needs it."""
    from gb2.gbasf2_env.api import S_OK

    return S_OK()
