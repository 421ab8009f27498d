"""A thin client for Rucio's REST API, speaking exactly Rucio 41's wire format.

Works against the embedded server and against a real Rucio: names are quoted
with ``quote_plus`` as Rucio's own client does, streaming endpoints are read as
NDJSON (``application/x-json-stream``), search filters travel as a Python
literal, creations expect ``201``. Authentication is either a callable giving a
bearer JWT (sent as ``X-Rucio-Auth-Token``; the embedded server, or a Rucio set
up for OIDC tokens) or Rucio userpass (token fetched from ``/auth/userpass``,
kept in memory, renewed a minute before ``X-Rucio-Auth-Token-Expires``).

Retries (see :mod:`gb2.client.http`): reads, ``POST /replicas/list``, searches,
metadata updates and attachments (always sent with ``ignore_duplicate``) are
idempotent and retried on timeouts, resets and 5xx; listings cut mid-body resume.
Creations are not, except where the caller passes ``exist_ok=True``; then a
repeat is harmless and "already exists" is success when that is safe:

* ``add_did``: the existing DID has the requested type (its content or
  metadata may differ); a name that exists but cannot be read (a collection still
  being deleted, whose name is free again only once the undertaker has run) stays an error;
* ``add_replicas``: files already replicated on that RSE with the same size and
  adler32 are skipped, the others registered;
* ``add_rule``: an identical rule (DID, account, expression, copies) is returned.

Every error is a :class:`gb2.errors.Gb2Error` whose ``exception_class``
attribute holds Rucio's ``ExceptionClass`` (e.g. ``DataIdentifierAlreadyExists``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from gb2.client.http import Api, Response, raise_for_response
from gb2.data.lfn import Did, datablock, normalise, scope_for
from gb2.errors import Forbidden, Gb2Error, NotFound, RequestRefused

if TYPE_CHECKING:
    import httpx

SERVICE = "Rucio"
NDJSON = "application/x-json-stream"
#: Rucio refuses more than this many items per request (schema ``maxItems``).
BATCH = 1000
_RENEW_BEFORE = 60.0

DidLike = Did | tuple[str, str] | dict[str, Any]


def _did_dict(did: DidLike) -> dict[str, Any]:
    if isinstance(did, dict):
        return did
    scope, name = did
    return {"scope": scope, "name": name}


def _rucio_date(value: datetime) -> str:
    return value.strftime("%a, %d %b %Y %H:%M:%S UTC")


@dataclass
class FileReplicas:
    """A file with what a download needs: size, checksum, events and replica PFNs by RSE."""

    scope: str
    name: str
    bytes: int | None
    adler32: str | None
    events: int | None
    pfns: dict[str, list[str]] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)

    @property
    def rses(self) -> list[str]:
        return list(self.pfns)


class RucioClient:
    """Rucio REST calls with gb2's retries and error mapping."""

    def __init__(
        self,
        url: str,
        *,
        token: Callable[[], str] | None = None,
        account: str | None = None,
        username: str | None = None,
        password: str | None = None,
        client: httpx.Client | None = None,
        scopes: Collection[str] | None = None,
        revive: Callable[[], None] | None = None,
    ) -> None:
        if token is None and not (account and username and password):
            raise ValueError("RucioClient needs a token callable or account, username and password")
        self._token_source = token
        self.account = account
        self._username, self._password = username, password
        self._cached: tuple[str, float] | None = None
        self._lock = threading.Lock()
        #: Known scopes for Belle II scope extraction (None: assume user.<name> scopes exist,
        #: and ask the server once for the scopes when a /belle/group/ name needs them).
        self.scopes = scopes
        self._server_scopes: frozenset[str] | None = None
        self._scopes_lock = threading.Lock()
        self.api = Api(SERVICE, url, auth_headers=self._auth_headers, client=client, revive=revive)

    # -- authentication -----------------------------------------------------------------
    @property
    def uses_userpass(self) -> bool:
        return self._token_source is None

    def _auth_headers(self) -> dict[str, str]:
        return {"X-Rucio-Auth-Token": self.token()}

    def token(self) -> str:
        """The token to send: the caller's JWT, or a cached userpass token renewed before expiry."""
        if self._token_source is not None:
            return self._token_source()
        with self._lock:
            if self._cached and self._cached[1] - time.time() > _RENEW_BEFORE:
                return self._cached[0]
            response = self.api.request(
                "GET", "/auth/userpass", idempotent=True, auth=False, check=False,
                headers={"X-Rucio-Account": self.account or "", "X-Rucio-Username": self._username or "",
                         "X-Rucio-Password": self._password or ""},
            )
            _check(response)
            token = response.headers["X-Rucio-Auth-Token"]
            expires = response.headers.get("X-Rucio-Auth-Token-Expires")
            try:
                deadline = parsedate_to_datetime(expires.replace("UTC", "GMT")).timestamp() if expires else 0.0
            except (TypeError, ValueError):
                deadline = 0.0
            self._cached = (token, deadline or time.time() + 3600)
            return token

    def _forget_token(self) -> bool:
        """Drop a cached userpass token after a rejection; True if a retry makes sense."""
        if not self.uses_userpass:
            return False
        with self._lock:
            self._cached = None
        return True

    # -- plumbing -------------------------------------------------------------------------
    def _send(self, method: str, path: str, *, idempotent: bool, ok: Collection[str] = (),
              **kwargs: Any) -> Response:
        """One request; error responses whose ExceptionClass is in ``ok`` are returned, not raised."""
        for attempt in (0, 1):
            response = self.api.request(method, path, idempotent=idempotent, check=False, **kwargs)
            if response.status_code < 400 or response.headers.get("ExceptionClass") in ok:
                return response
            if attempt == 0 and _is_auth_failure(response) and self._forget_token():
                continue
            _check(response)
        raise AssertionError("unreachable")

    def _stream(self, method: str, path: str, **kwargs: Any) -> Iterator[Any]:
        """NDJSON values of a streaming endpoint, resumed if cut (a userpass token is renewed once if refused)."""
        for attempt in (0, 1):
            try:
                yield from self.api.ndjson(method, path, error=_check, **kwargs)
                return
            except Gb2Error as exc:
                if attempt == 0 and exc.status_code == 401 and exception_class(exc) == "CannotAuthenticate" \
                        and self._forget_token():
                    continue
                raise

    @staticmethod
    def _did_path(scope: str, name: str, *suffix: str) -> str:
        return "/".join(["/dids", quote_plus(scope), quote_plus(name), *suffix])

    def did(self, lfn: str) -> Did:
        """The DID of a Belle II path (Rucio's ``belleii`` scope extraction).

        Group areas need the scope list: ``/belle/group/<area>/<g>/...`` is in
        ``group.<g>`` only if that scope exists, else in the plain ``group`` scope.
        """
        name = normalise(lfn)
        return Did(scope_for(name, self._scopes_for(name)), name)

    def _scopes_for(self, name: str) -> Collection[str] | None:
        if self.scopes is not None or not name.startswith("/belle/group/"):
            return self.scopes
        with self._scopes_lock:
            if self._server_scopes is None:
                self._server_scopes = frozenset(self.list_scopes())
            return self._server_scopes

    # -- service --------------------------------------------------------------------------
    def ping(self) -> str:
        response = self.api.request("GET", "/ping", idempotent=True, auth=False)
        return response.json()["version"]

    def whoami(self) -> dict:
        response = self._send("GET", "/accounts/whoami", idempotent=True, follow_redirects=True)
        info = response.json()
        self.account = self.account or info.get("account")
        return info

    def current_account(self) -> str:
        return self.account or self.whoami()["account"]

    def get_account(self, account: str) -> dict:
        return self._send("GET", f"/accounts/{quote_plus(account)}", idempotent=True,
                          headers={"Accept": "application/json"}).json()

    def list_scopes(self) -> list[str]:
        return self._send("GET", "/scopes/", idempotent=True).json()

    def local_account_limits(self, account: str, rse: str | None = None) -> dict[str, float | int | None]:
        """RSE -> the account's limit in bytes (``inf``: unlimited; one RSE: ``None`` if unset)."""
        path = f"/accounts/{quote_plus(account)}/limits/local" + (f"/{quote_plus(rse)}" if rse else "")
        return self._send("GET", path, idempotent=True, headers={"Accept": "application/json"}).json()

    def set_local_account_limit(self, account: str, rse: str, nbytes: int) -> None:
        """An account's limit on one RSE (an administrator's call)."""
        self._send("POST", f"/accountlimits/local/{quote_plus(account)}/{quote_plus(rse)}", idempotent=True,
                   json={"bytes": nbytes})

    def local_account_usage(self, account: str, rse: str | None = None) -> list[dict]:
        """Per RSE: ``bytes`` and ``files`` the account's rules lock, ``bytes_limit``, ``bytes_remaining``."""
        path = f"/accounts/{quote_plus(account)}/usage/local" + (f"/{quote_plus(rse)}" if rse else "")
        return list(self._stream("GET", path))

    def account_scopes(self, account: str) -> list[str]:
        """The scopes an account owns (where it may create DIDs); Rucio says 404 for none."""
        try:
            return self._send("GET", f"/accounts/{quote_plus(account)}/scopes/", idempotent=True).json()
        except NotFound:
            return []

    def account_attributes(self, account: str) -> dict[str, Any]:
        """An account's attributes (``admin``, ...) as one mapping ({} where the server keeps none)."""
        try:
            rows = self._send("GET", f"/accounts/{quote_plus(account)}/attr/", idempotent=True,
                              headers={"Accept": "application/json"}).json()
        except NotFound:
            return {}
        return {str(r.get("key")): r.get("value") for r in rows if isinstance(r, dict)}

    # -- DIDs -----------------------------------------------------------------------------
    def get_did(self, scope: str, name: str, *, dynamic: bool = False) -> dict:
        params = {"dynamic_depth": "FILE"} if dynamic else None
        return self._send("GET", self._did_path(scope, name), idempotent=True, params=params,
                          headers={"Accept": "application/json"}).json()

    def did_exists(self, scope: str, name: str) -> bool:
        try:
            self.get_did(scope, name)
        except NotFound:
            return False
        return True

    def add_did(self, scope: str, name: str, did_type: str, *, meta: dict | None = None,
                lifetime: float | None = None, exist_ok: bool = False) -> bool:
        """Create a DATASET or CONTAINER; False if it existed already and ``exist_ok``."""
        body: dict[str, Any] = {"type": did_type.upper()}
        if meta:
            body["meta"] = meta
        if lifetime is not None:
            body["lifetime"] = lifetime
        ok = ("DataIdentifierAlreadyExists",) if exist_ok else ()
        # With exist_ok a repeat is harmless ("already exists" is success), so it may be retried.
        response = self._send("POST", self._did_path(scope, name), idempotent=exist_ok, ok=ok, json=body)
        if response.status_code == 201:
            return True
        try:
            existing = self.get_did(scope, name)
        except NotFound:
            _check(response)  # exists but unreadable: still being deleted
            raise
        if existing.get("type") != did_type.upper():
            raise _error(RequestRefused(f"{SERVICE}: {scope}:{name} exists as a {existing.get('type')}, "
                                        f"not a {did_type.upper()}", status_code=409), "DataIdentifierAlreadyExists")
        return False

    def add_container(self, scope: str, name: str, *, meta: dict | None = None, exist_ok: bool = False) -> bool:
        return self.add_did(scope, name, "CONTAINER", meta=meta, exist_ok=exist_ok)

    def add_dataset(self, scope: str, name: str, *, meta: dict | None = None, exist_ok: bool = False) -> bool:
        return self.add_did(scope, name, "DATASET", meta=meta, exist_ok=exist_ok)

    def attach(self, scope: str, name: str, dids: Iterable[DidLike], *, rse: str | None = None) -> None:
        """Attach DIDs to a collection, in batches; already attached ones are ignored (idempotent)."""
        items = [_did_dict(d) for d in dids]
        for i in range(0, len(items), BATCH):
            attachment: dict[str, Any] = {"scope": scope, "name": name, "dids": items[i:i + BATCH]}
            if rse:
                attachment["rse"] = rse
            self.attach_many([attachment])

    def attach_many(self, attachments: Sequence[dict]) -> None:
        self._send("POST", "/dids/attachments", idempotent=True,
                   json={"ignore_duplicate": True, "attachments": list(attachments)})

    def detach(self, scope: str, name: str, dids: Iterable[DidLike]) -> None:
        self._send("DELETE", self._did_path(scope, name, "dids"), idempotent=False,
                   json={"dids": [_did_dict(d) for d in dids]})

    def close(self, scope: str, name: str) -> None:
        """Close a collection (no more attachments)."""
        self._send("PUT", self._did_path(scope, name, "status"), idempotent=True, json={"open": False})

    def list_content(self, scope: str, name: str) -> Iterator[dict]:
        return self._stream("GET", self._did_path(scope, name, "dids"))

    def list_files(self, scope: str, name: str, *, long: bool = False) -> Iterator[dict]:
        """Every file below a DID (recursively), with bytes, adler32 and events."""
        return self._stream("GET", self._did_path(scope, name, "files"), params={"long": "True"} if long else None)

    def list_parents(self, scope: str, name: str) -> Iterator[dict]:
        return self._stream("GET", self._did_path(scope, name, "parents"))

    def list_scope(self, scope: str, *, name: str | None = None, recursive: bool = False) -> Iterator[dict]:
        params: dict[str, str] = {}
        if name:
            params["name"] = name
        if recursive:
            params["recursive"] = "True"
        return self._stream("GET", f"/dids/{quote_plus(scope)}/", params=params or None)

    # -- metadata -------------------------------------------------------------------------
    def get_metadata(self, scope: str, name: str, plugin: str = "DID_COLUMN") -> dict:
        """``DID_COLUMN`` (Rucio's columns), ``JSON`` (generic metadata) or ``ALL``."""
        return self._send("GET", self._did_path(scope, name, "meta"), idempotent=True,
                          params={"plugin": plugin}, headers={"Accept": "application/json"}).json()

    def get_metadata_bulk(self, dids: Iterable[DidLike], *, plugin: str = "JSON", inherit: bool = False) -> Iterator[dict]:
        items = [_did_dict(d) for d in dids]
        for i in range(0, len(items), BATCH):
            yield from self._stream("POST", "/dids/bulkmeta",
                                    json={"dids": items[i:i + BATCH], "inherit": inherit, "plugin": plugin})

    def set_metadata(self, scope: str, name: str, key: str, value: Any, *, recursive: bool = False) -> None:
        self._send("POST", self._did_path(scope, name, "meta", key), idempotent=True,
                   json={"value": value, "recursive": recursive})

    def set_metadata_bulk(self, scope: str, name: str, meta: dict, *, recursive: bool = False) -> None:
        self._send("POST", self._did_path(scope, name, "meta"), idempotent=True,
                   json={"meta": meta, "recursive": recursive})

    def delete_metadata(self, scope: str, name: str, key: str) -> None:
        self._send("DELETE", self._did_path(scope, name, "meta"), idempotent=True, params={"key": key})

    def search_dids(self, scope: str, filters: dict | Sequence[dict] | None = None, *,
                    did_type: str = "collection", long: bool = False, limit: int | None = None,
                    recursive: bool = False) -> Iterator[Any]:
        """Names (or, with ``long``, dicts) of DIDs matching metadata filters.

        ``filters`` is a list of OR-ed dicts of AND-ed ``key[.op]: value`` items
        (ops ``gt gte lt lte ne``; ``*`` wildcards in strings). Keys of one search
        must all be DID columns or all generic JSON keys (Rucio refuses a mix);
        the JSON plugin ignores ``did_type``.
        """
        groups = [filters] if isinstance(filters, dict) else list(filters or [{}])
        groups = [{k: _rucio_date(v) if isinstance(v, datetime) else v for k, v in g.items()} for g in groups]
        params = {"type": did_type, "filters": repr(groups), "long": str(long), "recursive": str(recursive)}
        if limit:
            params["limit"] = str(limit)
        return self._stream("GET", f"/dids/{quote_plus(scope)}/dids/search", params=params)

    def set_lifetime(self, scope: str, name: str, seconds: float | None) -> None:
        """Give a DID a lifetime (``None`` removes it); Rucio deletes it once expired."""
        self.set_metadata(scope, name, "lifetime", seconds)

    def erase(self, scope: str, name: str, *, lifetime: float = 0.0, recursive: bool = True) -> None:
        """Delete a DID the way ``rucio erase`` does: by a lifetime, here by default 0.

        With ``recursive``, collections inside it get the lifetime too (their files
        go with their last dataset). The name can never be used again.
        """
        if recursive:
            for child in list(self.list_content(scope, name)):
                if child.get("type") in ("DATASET", "CONTAINER"):
                    self.erase(child["scope"], child["name"], lifetime=lifetime, recursive=True)
        self.set_lifetime(scope, name, lifetime)

    # -- replicas -------------------------------------------------------------------------
    def list_replicas(self, dids: Iterable[DidLike], *, schemes: Sequence[str] | None = None,
                      rse_expression: str | None = None, all_states: bool = False,
                      domain: str | None = None, sort: str | None = "random",
                      client_site: str | None = None, ignore_availability: bool = False) -> Iterator[dict]:
        """Replica records of files; datasets and containers resolve to their files.

        ``domain``: ``wan`` (remote access), ``lan`` (local doors such as ``file://``)
        or ``all``; left out, Rucio gives wan PFNs plus lan ones for RSEs at
        ``client_site`` (e.g. ``LCG.KEK.jp``). ``sort="random"`` (the default)
        spares a real Rucio its GeoIP lookup. Replicas on storage elements flagged
        down for reading are left out unless ``ignore_availability``.
        """
        items = [_did_dict(d) for d in dids]
        seen: set[tuple[str, str]] = set()
        for i in range(0, len(items), BATCH):
            body: dict[str, Any] = {"dids": items[i:i + BATCH], "all_states": all_states}
            if schemes:
                body["schemes"] = list(schemes)
            if rse_expression:
                body["rse_expression"] = rse_expression
            if domain:
                body["domain"] = domain
            if sort:
                body["sort"] = sort
            if client_site:
                body["client_location"] = {"site": client_site}
            if ignore_availability:
                body["ignore_availability"] = True
            for record in self._stream("POST", "/replicas/list", json=body):
                key = (record["scope"], record["name"])
                if key not in seen:
                    seen.add(key)
                    yield record

    def add_replicas(self, rse: str, files: Iterable[dict], *, exist_ok: bool = False) -> None:
        """Register file replicas on an RSE (creating file DIDs): dicts of scope, name,
        bytes, adler32 and optionally md5 and ``meta`` (``events``, JSON keys such as ``job_id``)."""
        items = list(files)
        for i in range(0, len(items), BATCH):
            batch = items[i:i + BATCH]
            response = self._send("POST", "/replicas", idempotent=exist_ok, ok=("Duplicate",) if exist_ok else (),
                                  json={"rse": rse, "files": batch, "ignore_availability": True})
            if response.status_code != 201:
                self._add_missing_replicas(rse, batch)

    def _add_missing_replicas(self, rse: str, batch: list[dict]) -> None:
        existing = {(r["scope"], r["name"]): r for r in self.list_replicas(
            [{"scope": f["scope"], "name": f["name"]} for f in batch], rse_expression=rse, all_states=True)
            if rse in r.get("states", {})}
        todo = []
        for f in batch:
            have = existing.get((f["scope"], f["name"]))
            if have is None:
                todo.append(f)
            elif have.get("bytes") != f.get("bytes") or (
                    f.get("adler32") and have.get("adler32") and have["adler32"] != f["adler32"]):
                raise _error(RequestRefused(f"{SERVICE}: {f['scope']}:{f['name']} is registered on {rse} with "
                                            "another size or checksum", status_code=409), "FileConsistencyMismatch")
        if todo:
            self._send("POST", "/replicas", idempotent=False,
                       json={"rse": rse, "files": todo, "ignore_availability": True})

    def delete_replicas(self, rse: str, files: Iterable[DidLike]) -> None:
        self._send("DELETE", "/replicas", idempotent=False,
                   json={"rse": rse, "files": [_did_dict(f) for f in files]})

    def list_dataset_replicas(self, scope: str, name: str) -> Iterator[dict]:
        return self._stream("GET", "/replicas/" + "/".join([quote_plus(scope), quote_plus(name), "datasets"]))

    # -- RSEs -----------------------------------------------------------------------------
    def list_rses(self, expression: str | None = None) -> list[dict]:
        """RSEs (all, or those matching an RSE expression such as ``type=TMP`` or ``A|B``)."""
        return list(self._stream("GET", "/rses/", params={"expression": expression} if expression else None))

    def get_rse(self, rse: str) -> dict:
        return self._send("GET", f"/rses/{quote_plus(rse)}", idempotent=True,
                          headers={"Accept": "application/json"}).json()

    def get_protocols(self, rse: str) -> list[dict]:
        return self._send("GET", f"/rses/{quote_plus(rse)}/protocols", idempotent=True,
                          headers={"Accept": "application/json"}).json()

    def rse_attributes(self, rse: str) -> dict:
        return self._send("GET", f"/rses/{quote_plus(rse)}/attr/", idempotent=True,
                          headers={"Accept": "application/json"}).json()

    def update_rse(self, rse: str, **properties: Any) -> None:
        """Change an RSE's properties, e.g. ``availability_read=False`` (an administrator's call)."""
        self._send("PUT", f"/rses/{quote_plus(rse)}", idempotent=True, json=properties)

    def get_distance(self, source: str, dest: str) -> int | None:
        """Rucio's distance from one RSE to another (lower is closer); None if none is set."""
        found = self._send("GET", f"/rses/{quote_plus(source)}/distances/{quote_plus(dest)}", idempotent=True,
                           headers={"Accept": "application/json"}).json()
        values = [d.get("distance", d.get("ranking")) for d in found if isinstance(d, dict)]
        return next((int(v) for v in values if v is not None), None)

    def set_distance(self, source: str, dest: str, distance: int) -> None:
        """Add or change a distance (an administrator's call)."""
        path = f"/rses/{quote_plus(source)}/distances/{quote_plus(dest)}"
        response = self._send("POST", path, idempotent=False, ok=("Duplicate",), json={"distance": distance})
        if response.status_code != 201:
            self._send("PUT", path, idempotent=True, json={"distance": distance})

    def rse_usage(self, rse: str) -> list[dict]:
        return list(self._stream("GET", f"/rses/{quote_plus(rse)}/usage"))

    def lfns2pfns(self, rse: str, lfns: Iterable[str], *, scheme: str | None = None,
                  domain: str = "wan", operation: str | None = None) -> dict[str, str]:
        """``scope:name`` -> PFN on an RSE (where to write a file before registering it)."""
        params: list[tuple[str, str]] = [("lfn", lfn) for lfn in lfns]
        if scheme:
            params.append(("scheme", scheme))
        params.append(("domain", domain))
        if operation:
            params.append(("operation", operation))
        return self._send("GET", f"/rses/{quote_plus(rse)}/lfns2pfns", idempotent=True, params=params,
                          headers={"Accept": "application/json"}).json()

    # -- rules ----------------------------------------------------------------------------
    def add_rule(self, dids: Iterable[DidLike], copies: int, rse_expression: str, *,
                 lifetime: float | None = None, grouping: str = "DATASET", account: str | None = None,
                 comment: str | None = None, activity: str | None = None,
                 source_replica_expression: str | None = None, exist_ok: bool = False) -> list[str]:
        items = [_did_dict(d) for d in dids]
        owner = account or self.current_account()
        body: dict[str, Any] = {"dids": items, "account": owner, "copies": copies,
                                "rse_expression": rse_expression, "grouping": grouping, "lifetime": lifetime}
        for key, value in (("comment", comment), ("activity", activity),
                           ("source_replica_expression", source_replica_expression)):
            if value is not None:
                body[key] = value
        response = self._send("POST", "/rules/", idempotent=exist_ok, ok=("DuplicateRule",) if exist_ok else (),
                              json=body)
        if response.status_code == 201:
            return json.loads(response.text)
        if len(items) > 1:  # one DID at a time, to learn which rules exist already
            return [rule_id for d in items for rule_id in self.add_rule(
                [d], copies, rse_expression, lifetime=lifetime, grouping=grouping, account=owner,
                comment=comment, activity=activity, source_replica_expression=source_replica_expression,
                exist_ok=True)]
        same = [r["id"] for r in self.list_rules(items[0]["scope"], items[0]["name"])
                if r["account"] == owner and r["rse_expression"] == rse_expression and r["copies"] == copies]
        if not same:
            _check(response)
        return same[:1]

    def get_rule(self, rule_id: str) -> dict:
        return self._send("GET", f"/rules/{quote_plus(rule_id)}", idempotent=True,
                          headers={"Accept": "application/json"}).json()

    def list_rules(self, scope: str, name: str) -> Iterator[dict]:
        return self._stream("GET", self._did_path(scope, name, "rules"))

    def delete_rule(self, rule_id: str, *, purge_replicas: bool = False, missing_ok: bool = False) -> None:
        self._send("DELETE", f"/rules/{quote_plus(rule_id)}", idempotent=True,
                   ok=("RuleNotFound",) if missing_ok else (), json={"purge_replicas": purge_replicas})

    # -- Belle II level -------------------------------------------------------------------
    def resolve(self, lfn: str, *, schemes: Sequence[str] | None = None, rse_expression: str | None = None,
                domain: str | None = None, client_site: str | None = None) -> Iterator[FileReplicas]:
        """The files behind an LPN, datablock, collection or file LFN, with size, adler32,
        events and PFNs per RSE (only AVAILABLE replicas)."""
        did = self.did(lfn)
        events = {f["name"]: f.get("events") for f in self.list_files(*did)}
        for record in self.list_replicas([did], schemes=schemes, rse_expression=rse_expression, domain=domain,
                                         client_site=client_site):
            yield FileReplicas(
                scope=record["scope"], name=record["name"], bytes=record.get("bytes"),
                adler32=record.get("adler32"), events=events.get(record["name"]),
                pfns={rse: list(urls) for rse, urls in record.get("rses", {}).items()},
                states=dict(record.get("states", {})),
            )

    def search_datasets(self, filters: dict | Sequence[dict], *, scopes: Sequence[str] = ("mc", "data"),
                        limit: int | None = None) -> Iterator[str]:
        """Dataset LPNs whose Dataset Searcher metadata (generic JSON keys) match ``filters``."""
        for scope in scopes:
            yield from self.search_dids(scope, filters, did_type="container", limit=limit)

    def ensure_collection(self, lfn: str, did_type: str, *, meta: dict | None = None) -> Did:
        did = self.did(lfn)
        self.add_did(did.scope, did.name, did_type, meta=meta, exist_ok=True)
        return did

    def create_project(self, lpn: str, datablocks: int = 1, *, meta: dict | None = None,
                       exist_ok: bool = False) -> list[Did]:
        """A project container with datablocks ``sub00``... attached; returns the datablocks."""
        project = self.did(lpn)
        self.add_container(project.scope, project.name, meta=meta, exist_ok=exist_ok)
        blocks = [Did(project.scope, f"{project.name}/{datablock(i)}") for i in range(datablocks)]
        for block in blocks:
            self.add_dataset(block.scope, block.name, exist_ok=True)
        self.attach(project.scope, project.name, blocks)
        return blocks

    def register_files(self, rse: str, files: Iterable[dict], dataset: str) -> None:
        """Register files written to ``rse`` and attach them to a datablock (idempotent).

        Each file: ``name`` (its LFN), ``bytes``, ``adler32`` and optionally ``events``
        and other metadata (e.g. ``job_id``) under ``meta``.
        """
        block = self.did(dataset)
        specs = []
        for f in files:
            name = normalise(f["name"])
            meta = dict(f.get("meta") or {})
            if f.get("events") is not None:
                meta["events"] = f["events"]
            spec = {"scope": f.get("scope") or self.did(name).scope, "name": name,
                    "bytes": f["bytes"], "adler32": f["adler32"]}
            if meta:
                spec["meta"] = meta
            specs.append(spec)
        self.add_replicas(rse, specs, exist_ok=True)
        self.attach(block.scope, block.name, [(s["scope"], s["name"]) for s in specs])


# -- errors -------------------------------------------------------------------------------

def _is_auth_failure(response: Response) -> bool:
    return response.status_code == 401 and response.headers.get("ExceptionClass") == "CannotAuthenticate"


def _error(exc: Gb2Error, exception_class: str | None) -> Gb2Error:
    exc.exception_class = exception_class  # type: ignore[attr-defined]
    return exc


def _check(response: Response) -> None:
    """Raise the gb2 error for a Rucio error response (Rucio says 401 AccessDenied for "forbidden")."""
    if response.status_code < 400:
        return
    exc_class = response.headers.get("ExceptionClass")
    if exc_class == "AccessDenied":
        message = response.headers.get("ExceptionMessage") or "access denied"
        raise _error(Forbidden(f"{SERVICE}: permission denied: {message}", status_code=response.status_code),
                     exc_class)
    try:
        raise_for_response(SERVICE, response)
    except Gb2Error as exc:
        raise _error(exc, exc_class) from None


def exception_class(error: BaseException) -> str | None:
    """Rucio's ExceptionClass behind a gb2 error raised by this client, if any."""
    return getattr(error, "exception_class", None)
