"""``DIRAC.Core.Security.ProxyInfo`` (gb2 stand-in): the cached gb2 login."""

from __future__ import annotations

from typing import Any

from gb2.gbasf2_env.api import proxy_info


def getProxyInfo(*args: Any, **kwargs: Any) -> dict[str, Any]:  # noqa: N802 - DIRAC's name
    """``{"OK": True, "Value": {"username", "group", "secondsLeft", ...}}``, or not OK when
    nobody is logged in; DIRAC's arguments (proxy, disableVOMS) do not apply to tokens."""
    return proxy_info()
