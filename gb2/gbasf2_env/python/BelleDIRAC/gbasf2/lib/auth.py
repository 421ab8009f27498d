"""``BelleDIRAC.gbasf2.lib.auth`` (gb2 stand-in)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any


def userCreds(fn: Callable[..., Any]) -> Callable[..., Any]:  # noqa: N802 - BelleDIRAC's name
    """Runs ``fn`` as is: gb2's calls use the cached login of the active profile themselves."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper
