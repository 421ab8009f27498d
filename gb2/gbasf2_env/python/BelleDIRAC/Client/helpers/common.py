"""``BelleDIRAC.Client.helpers.common`` (gb2 stand-in)."""

from __future__ import annotations

from typing import Any


def initializeCS(*args: Any, **kwargs: Any) -> dict[str, Any]:  # noqa: N802 - BelleDIRAC's name
    """Accepted: gb2 has no configuration service; the profile comes from gb2's config file."""
    from gb2.gbasf2_env.api import S_OK

    return S_OK()
