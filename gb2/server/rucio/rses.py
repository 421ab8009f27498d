"""RSEs of the embedded catalogue: the sample grid's storage elements as Rucio sees them.

Protocols are built from the server's current URL on every call, so a restart on
another port never leaves stale PFNs behind. Each SE has an ``http`` protocol
(wan: what remote clients use) and a ``file`` protocol (lan: jobs on this
machine read the folder directly). Names are deterministic: PFN = protocol
prefix + LFN, as Belle II's ``lfn2pfn`` does.

RSE expressions follow Rucio's grammar: terms are RSE names or ``key=value``
attribute tests, combined with ``|`` (union), ``&`` (intersection), ``\\``
(difference) and parentheses; ``*`` is every RSE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from gb2.server.rucio.errors import RucioError
from gb2.server.settings import ServerSettings
from gb2.server.storage import file_pfn, http_pfn
from gb2.server.topology import STORAGE_ELEMENTS, StorageElement

WAN = {"read": 1, "write": 1, "delete": 1, "third_party_copy_read": 1, "third_party_copy_write": 1}
OFF = {"read": 0, "write": 0, "delete": 0}
LAN = {"read": 1, "write": 1, "delete": 1}


@dataclass(frozen=True)
class Protocol:
    scheme: str
    hostname: str
    port: int
    prefix: str
    impl: str
    domains: dict[str, dict[str, int]]

    def as_dict(self) -> dict:
        return {
            "domains": self.domains,
            "extended_attributes": None,
            "hostname": self.hostname,
            "impl": self.impl,
            "port": self.port,
            "prefix": self.prefix,
            "scheme": self.scheme,
        }

    def supports(self, domain: str, operation: str = "read") -> bool:
        return self.domains.get(domain, {}).get(operation, 0) > 0


def attributes(se: StorageElement) -> dict[str, object]:
    """RSE attributes usable in expressions (``type=TMP``, ``site=LCG.KEK.jp``, ...)."""
    return {
        se.name: True,
        "ANY": True,  # DIRAC's catch-all (its new datasets get an ``ANY=true`` rule)
        "type": se.kind,
        "site": se.site or "",
        "city": se.city,
        "rse_type": "DISK",
        "istape": False,
        "naming_convention": "belleii",
    }


def protocols(settings: ServerSettings, base_url: str, se: StorageElement) -> list[Protocol]:
    url = urlsplit(base_url)
    http = Protocol(
        scheme=url.scheme or "http",
        hostname=url.hostname or "127.0.0.1",
        port=url.port or (443 if url.scheme == "https" else 80),
        prefix=f"/se/{se.name}",
        impl="rucio.rse.protocols.webdav.Default",
        domains={"lan": dict(OFF), "wan": dict(WAN)},
    )
    local = Protocol(
        scheme="file",
        hostname="localhost",
        port=0,
        prefix=str(settings.se_root.resolve() / se.name),
        impl="rucio.rse.protocols.posix.Default",
        domains={"lan": dict(LAN), "wan": dict(OFF)},
    )
    return [http, local]


def pfn(settings: ServerSettings, base_url: str, se_name: str, scheme: str, name: str) -> str:
    """The PFN of ``name`` on ``se_name`` for one protocol scheme."""
    if scheme == "file":
        return file_pfn(settings, se_name, name)
    return http_pfn(base_url, se_name, name)


def describe(settings: ServerSettings, base_url: str, se: StorageElement, rse_id: str) -> dict:
    """``GET /rses/<rse>`` as Rucio renders it."""
    return {
        "availability_delete": True,
        "availability_read": True,
        "availability_write": True,
        "credentials": None,
        "deterministic": True,
        "domain": ["lan", "wan"],
        "id": rse_id,
        "lfn2pfn_algorithm": "belleii",
        "protocols": [p.as_dict() for p in protocols(settings, base_url, se)],
        "qos_class": None,
        "rse": se.name,
        "rse_type": "DISK",
        "sign_url": None,
        "staging_area": False,
        "verify_checksum": True,
        "volatile": False,
        "availability": 7,
    }


# -- expressions -----------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(\(|\)|\||&|\\|[A-Za-z0-9_.\-*]+(?:(?:=|<|>)[A-Za-z0-9_.\-]+)?)")


def parse_expression(expression: str) -> list[str]:
    """RSE names matching an RSE expression, sorted; InvalidRSEExpression if none or malformed."""
    tokens = _tokenise(expression)
    parser = _Parser(tokens, expression)
    result = parser.union()
    if parser.pos != len(tokens):
        raise _invalid(expression)
    if not result:
        raise RucioError("InvalidRSEExpression", f"RSE Expression resulted in an empty set: {expression}")
    return sorted(result)


def _invalid(expression: str) -> RucioError:
    return RucioError("InvalidRSEExpression", f"Expression does not comply to RSE Expression syntax: {expression}")


def _tokenise(expression: str) -> list[str]:
    tokens, pos = [], 0
    text = expression.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise _invalid(expression)
        tokens.append(match.group(1))
        pos = match.end()
    if not tokens:
        raise _invalid(expression)
    return tokens


class _Parser:
    """Left-to-right, with ``&`` and ``\\`` binding like ``|`` (Rucio evaluates left to right)."""

    def __init__(self, tokens: list[str], expression: str) -> None:
        self.tokens = tokens
        self.pos = 0
        self.expression = expression

    def union(self) -> set[str]:
        result = self.term()
        while self.pos < len(self.tokens) and self.tokens[self.pos] in ("|", "&", "\\"):
            op = self.tokens[self.pos]
            self.pos += 1
            right = self.term()
            if op == "|":
                result = result | right
            elif op == "&":
                result = result & right
            else:
                result = result - right
        return result

    def term(self) -> set[str]:
        if self.pos >= len(self.tokens):
            raise _invalid(self.expression)
        token = self.tokens[self.pos]
        self.pos += 1
        if token == "(":
            result = self.union()
            if self.pos >= len(self.tokens) or self.tokens[self.pos] != ")":
                raise _invalid(self.expression)
            self.pos += 1
            return result
        if token in (")", "|", "&", "\\"):
            raise _invalid(self.expression)
        return _match_term(token)


def _match_term(token: str) -> set[str]:
    if token == "*":
        return {se.name for se in STORAGE_ELEMENTS}
    match = re.match(r"^([A-Za-z0-9_.\-]+)(=|<|>)(.+)$", token)
    if not match:
        return {se.name for se in STORAGE_ELEMENTS if se.name == token}
    key, op, value = match.groups()
    found = set()
    for se in STORAGE_ELEMENTS:
        attr = attributes(se).get(key)
        if attr is None:
            continue
        if op == "=" and str(attr).lower() == value.lower():
            found.add(se.name)
        elif op in "<>":
            try:
                a, b = float(attr), float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            if (a < b) if op == "<" else (a > b):
                found.add(se.name)
    return found
