"""HTTP/1.1 over the standard library's ``http.client``: the lean transport under :class:`gb2.client.http.Api`.

Why not httpx for everything: importing httpx costs more than a whole status command
should take (it is about 100 ms of a cold start), and its pure-Python parser reads
bodies at half of ``http.client``'s speed. ``http.client`` is already loaded by the
standard library for much less, so the everyday calls (JSON requests and NDJSON
listings) go through here; :class:`~gb2.client.http.Api` keeps httpx for what this
module does not do (proxies from the environment, multipart uploads, a caller's own
httpx client). Both sit under the same retry policy.

What this module mirrors from httpx, so that a server sees the same requests: JSON
bodies encoded compactly in UTF-8 (NaN refused), forms and query strings URL-encoded
with ``true``/``false`` for booleans, no redirects followed, the TLS trust store
(``SSL_CERT_FILE``, ``SSL_CERT_DIR``, else certifi's bundle), a connect timeout of at
most 10 s and a read timeout of ``GB2_HTTP_TIMEOUT``.

Connections are kept alive per thread and per server (:func:`connection`; the file
transfers of :mod:`gb2.data.transfer` use the same pool), and a kept connection the
server has closed in the meantime is noticed before it is used again. Failures are
:class:`TransportError` subclasses named as httpx names them, grouped by what they
mean for a retry: :class:`NotSent` (the request never left) or :class:`MaybeSent`.
"""

from __future__ import annotations

import http.client
import json as jsonlib
import os
import select
import threading
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

from gb2 import __version__

USER_AGENT = f"gb2/{__version__}"
#: Longest wait for a connection to open (the read timeout may be longer).
CONNECT_TIMEOUT = 10.0
#: Bytes read at a time from a streamed body.
LINE_BLOCK = 256 * 1024


def http_timeout() -> float:
    """Seconds without a byte before a request counts as lost (``GB2_HTTP_TIMEOUT``, default 60)."""
    return float(os.environ.get("GB2_HTTP_TIMEOUT", "60"))


# -- errors ----------------------------------------------------------------------------------


class TransportError(Exception):
    """The exchange failed below HTTP (no usable answer)."""


class NotSent(TransportError):
    """The request provably never reached the server: always safe to send again."""


class MaybeSent(TransportError):
    """The request may have reached the server, and the answer did not come back whole."""


class ConnectError(NotSent):
    pass


class ConnectTimeout(NotSent):
    pass


class ReadTimeout(MaybeSent):
    pass


class ReadError(MaybeSent):
    pass


class RemoteProtocolError(MaybeSent):
    """The server closed the connection or sent something that is not HTTP."""


def _lost(exc: BaseException) -> MaybeSent:
    if isinstance(exc, TimeoutError):
        return ReadTimeout(str(exc) or "timed out")
    if isinstance(exc, (http.client.HTTPException, ConnectionError)):
        return RemoteProtocolError(str(exc) or type(exc).__name__)
    return ReadError(str(exc) or type(exc).__name__)


# -- connections ------------------------------------------------------------------------------

_local = threading.local()
_ssl_context: Any = None
_ssl_lock = threading.Lock()


def ssl_context() -> Any:
    """The TLS trust httpx uses: ``SSL_CERT_FILE``, else ``SSL_CERT_DIR``, else certifi's bundle."""
    global _ssl_context
    with _ssl_lock:
        if _ssl_context is None:
            import ssl

            if os.environ.get("SSL_CERT_FILE"):
                _ssl_context = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
            elif os.environ.get("SSL_CERT_DIR"):
                _ssl_context = ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
            else:
                import certifi

                _ssl_context = ssl.create_default_context(cafile=certifi.where())
        return _ssl_context


def _closed_by_peer(conn: http.client.HTTPConnection) -> bool:
    """A kept-alive connection is reusable only if the server has not closed it (then the
    socket reads as ready: an EOF or stray bytes). Checked before reuse, as httpcore does."""
    sock = conn.sock
    if sock is None:
        return False  # not connected yet: it connects on first use
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class _Connection(http.client.HTTPConnection):
    """Connects within ``timeout`` (at most :data:`CONNECT_TIMEOUT`), then reads within ``read_timeout``."""

    read_timeout: float | None = None

    def connect(self) -> None:
        super().connect()
        self.sock.settimeout(self.read_timeout)


class _TLSConnection(http.client.HTTPSConnection):
    read_timeout: float | None = None

    def connect(self) -> None:
        super().connect()
        self.sock.settimeout(self.read_timeout)


def connection(scheme: str, host: str, port: int, *, fresh: bool = False, purpose: str = "api",
               timeout: float | None = None) -> http.client.HTTPConnection:  # fmt: skip
    """This thread's kept-alive connection to a server for one ``purpose`` (a file copy reads
    with one and writes with another at the same time); ``fresh`` replaces it."""
    pool: dict = _local.__dict__.setdefault("pool", {})
    read_timeout = http_timeout() if timeout is None else timeout
    key = (scheme, host, port, purpose, read_timeout)
    conn = pool.get(key)
    if conn is not None and (fresh or _closed_by_peer(conn)):
        conn.close()
        conn = None
    if conn is None:
        connect = min(CONNECT_TIMEOUT, read_timeout)
        if scheme == "https":
            conn = _TLSConnection(host, port, timeout=connect, context=ssl_context())
        else:
            conn = _Connection(host, port, timeout=connect)
        conn.read_timeout = read_timeout
        pool[key] = conn
    return conn


def _connect(conn: http.client.HTTPConnection) -> None:
    """Open the socket now, so that a failure here is known not to have sent anything."""
    if conn.sock is not None:
        return
    try:
        conn.connect()
    except TimeoutError as exc:
        conn.close()
        raise ConnectTimeout(str(exc) or "timed out") from exc
    except OSError as exc:  # refused, unreachable, no such host, TLS handshake refused
        conn.close()
        raise ConnectError(str(exc) or type(exc).__name__) from exc


# -- requests ----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def _pairs(values: Mapping[str, Any] | list[tuple[str, Any]]) -> list[tuple[str, str]]:
    items = values.items() if isinstance(values, Mapping) else values
    pairs: list[tuple[str, str]] = []
    for key, value in items:
        for one in value if isinstance(value, (list, tuple)) else [value]:
            pairs.append((str(key), _text(one)))
    return pairs


#: Characters a request target may carry as they are (RFC 3986), ``%`` kept for escapes already made.
_PATH_SAFE = "!$&'()*+,;=:@/%"
_QUERY_SAFE = _PATH_SAFE + "?"


def _target(parts: Any, params: Mapping[str, Any] | list[tuple[str, Any]] | None) -> str:
    target = quote(parts.path or "/", safe=_PATH_SAFE)
    query = quote(parts.query, safe=_QUERY_SAFE) if parts.query else ""
    if params:
        extra = urlencode(_pairs(params))
        query = f"{query}&{extra}" if query and extra else query or extra
    return f"{target}?{query}" if query else target


def encode_body(json: Any = None, data: Mapping[str, Any] | None = None,
                content: bytes | str | None = None) -> tuple[bytes | None, str | None]:  # fmt: skip
    """(body, content type) as httpx encodes them."""
    if content is not None:
        return (content.encode() if isinstance(content, str) else bytes(content)), None
    if data is not None:
        return urlencode(_pairs(data)).encode(), "application/x-www-form-urlencoded"
    if json is not None:
        body = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        return body, "application/json"
    return None, None


class Headers(Mapping[str, str]):
    """Response headers, case-insensitive; repeated headers joined with ``, `` (as httpx does)."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = list(items)
        self._map: dict[str, str] = {}
        for key, value in self._items:
            low = key.lower()
            self._map[low] = f"{self._map[low]}, {value}" if low in self._map else value

    def __getitem__(self, key: str) -> str:
        return self._map[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._map

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._items)


class Response:
    """What a caller reads of an answer: the subset of ``httpx.Response`` gb2 uses."""

    def __init__(self, status_code: int, headers: Headers | list[tuple[str, str]], content: bytes | None = None,
                 *, reason: str = "", raw: http.client.HTTPResponse | None = None,
                 conn: http.client.HTTPConnection | None = None) -> None:  # fmt: skip
        self.status_code = status_code
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.reason_phrase = reason or http.client.responses.get(status_code, "")
        self._content = content
        self._raw = raw
        self._conn = conn

    @property
    def content(self) -> bytes:
        if self._content is None:
            self.read()
        return self._content or b""

    @property
    def encoding(self) -> str:
        for param in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip('"')
        return "utf-8"

    @property
    def text(self) -> str:
        try:
            return self.content.decode(self.encoding, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)

    def read(self) -> bytes:
        """The whole body (of a streamed answer too); the connection stays open for the next request."""
        if self._content is None:
            raw = self._raw
            try:
                self._content = raw.read() if raw is not None else b""
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise _lost(exc) from exc
            self._done()
        return self._content

    def iter_lines(self) -> Iterator[str]:
        """The body's lines, without their ends, as they arrive (NDJSON listings)."""
        if self._content is not None:
            yield from self._content.decode(self.encoding, errors="replace").splitlines()
            return
        raw = self._raw
        if raw is None:
            return
        encoding = self.encoding
        rest = b""
        try:
            # Blocks as they arrive, split here: reading line by line through http.client's
            # chunked decoding costs more than parsing the lines (100,000 replicas in a listing).
            while block := raw.read1(LINE_BLOCK):
                lines = (rest + block).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    yield line.decode(encoding, errors="replace").rstrip("\r")
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise _lost(exc) from exc
        if raw.length:  # the server closed before sending the length it announced
            self.close()
            raise RemoteProtocolError(f"the body ended {raw.length} bytes early")
        if rest:
            yield rest.decode(encoding, errors="replace").rstrip("\r")
        self._content = b""
        self._done()

    def _done(self) -> None:
        """The body is read: a connection the server keeps open can carry the next request."""
        raw, conn = self._raw, self._conn
        self._raw = self._conn = None
        if raw is not None and conn is not None and raw.will_close:
            conn.close()

    def close(self) -> None:
        """Stop reading; a connection left in the middle of a body cannot be reused."""
        raw, conn = self._raw, self._conn
        self._raw = self._conn = None
        if raw is not None:
            raw.close()
        if conn is not None:
            conn.close()

    def __repr__(self) -> str:
        return f"<Response [{self.status_code} {self.reason_phrase}]>"


_REDIRECTS = (301, 302, 303, 307, 308)
#: Headers that never follow a redirect to another server.
_CREDENTIALS = ("authorization", "x-rucio-auth-token")


def send(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
    json: Any = None,
    data: Mapping[str, Any] | None = None,
    content: bytes | str | None = None,
    timeout: float | None = None,
    stream: bool = False,
    follow_redirects: bool = False,
) -> Response:
    """One HTTP exchange on this thread's kept-alive connection; no retry (that is the caller's
    policy). ``stream``: the body is left to read (:meth:`Response.iter_lines`, :meth:`Response.read`).
    ``follow_redirects``: as httpx follows them (a 303, or a 301/302 of a POST, becomes a GET
    without a body; credentials are not sent to another server)."""
    body, content_type = encode_body(json, data, content)
    sent = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    if content_type:
        sent["Content-Type"] = content_type
    if headers:
        sent.update(headers)
    origin = urlsplit(url).netloc
    for _ in range(20):
        response = _exchange(method, url, sent, params, body, timeout, stream)
        location = response.headers.get("location")
        if not (follow_redirects and response.status_code in _REDIRECTS and location):
            return response
        response.read()
        url = urljoin(url, location)
        params = None  # the server's location says it all
        if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
            method, body = "GET", None
            sent = {k: v for k, v in sent.items() if k.lower() != "content-type"}
        if urlsplit(url).netloc != origin:
            sent = {k: v for k, v in sent.items() if k.lower() not in _CREDENTIALS}
    raise RemoteProtocolError(f"too many redirects from {url}")


def _exchange(method: str, url: str, headers: dict[str, str], params: Any, body: bytes | None,
              timeout: float | None, stream: bool) -> Response:  # fmt: skip
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConnectError(f"not an http(s) URL: {url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    conn = connection(parts.scheme, parts.hostname, port, timeout=timeout)
    _connect(conn)
    try:
        conn.request(method, _target(parts, params), body=body, headers=headers)
        raw = conn.getresponse()
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        raise _lost(exc) from exc
    except BaseException:
        conn.close()  # Ctrl-C mid-request: never reuse a connection left half-way
        raise
    response = Response(raw.status, raw.getheaders(), reason=raw.reason, raw=raw, conn=conn)
    if not stream or method == "HEAD":
        response.read()
    return response


def proxy_for(url: str) -> str | None:
    """The proxy the environment sets for ``url``'s scheme (``http_proxy``, ``https_proxy``,
    ``all_proxy``, any case), if any: such requests go through httpx, which honours it."""
    scheme = url.split("://", 1)[0].lower()
    for name in (f"{scheme}_proxy", "all_proxy"):
        value = os.environ.get(name) or os.environ.get(name.upper())
        if value:
            return value
    return None
