"""``DIRAC.Core.Security.X509Chain`` (gb2 stand-in): gb2 logs in with OAuth2 tokens and
has no X.509 proxy, so no ``getProxyInfo`` value ever holds one of these."""

from __future__ import annotations

from typing import Any


class X509Chain:
    """A certificate chain; gb2 has none (the class exists for ``isinstance`` checks)."""

    def dumpAllToString(self) -> dict[str, Any]:  # noqa: N802 - DIRAC's name
        from gb2.gbasf2_env.api import S_ERROR

        return S_ERROR("gb2 has no X.509 proxy: it logs in with OAuth2 tokens")
