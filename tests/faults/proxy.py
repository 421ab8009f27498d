"""A fault-injecting HTTP/1.1 proxy for tests: real sockets, loopback only, bounded, seeded.

Placed between gb2 and a server (``FaultProxy(upstream).start()``), it forwards each
request on a fresh upstream connection and, per request, may inject one fault:

* ``503``: answer 503 without forwarding (the server never saw the request);
* ``500``: forward, let the server act, then answer 500 (the lost-answer case);
* ``reset``: forward, send part of the answer, then reset the connection (RST);
* ``stall``: forward, then send nothing for ``stall_seconds`` (past the client's timeout);
* ``truncate``: forward, send the head and part of the body, then close (FIN).

Faults are chosen by probability (``rate``) and by route (``rules``: regular
expressions on ``"METHOD /path"``, each with its own rate and faults). The choice for
the n-th request of a route depends only on the seed, the route and n, so a failing
run replays with the same seed even though requests run in parallel. The proxy
listens and forwards only on 127.0.0.0/8, serves at most ``max_requests`` requests and
stops by itself after ``max_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import random
import re
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

FAULTS = ("503", "500", "reset", "stall", "truncate")
_NO_BODY_STATUSES = {204, 304}


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Rule:
    """Requests whose ``"METHOD /path"`` matches ``pattern`` get ``faults`` at ``rate``."""

    pattern: str
    rate: float
    faults: tuple[str, ...] = FAULTS
    #: Inject at most this many faults through this rule (None: no limit).
    limit: int | None = None

    def matches(self, route: str) -> bool:
        return re.search(self.pattern, route) is not None


@dataclass
class Event:
    route: str
    fault: str | None
    status: int | None  # the upstream status (None if not forwarded or no answer)
    range: str | None = None  # the request's Range header
    body_bytes: int = 0  # bytes of the answer's body sent to the client


@dataclass
class Stats:
    events: list[Event] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.events)

    @property
    def faults(self) -> Counter:
        return Counter(e.fault for e in self.events if e.fault)


class _Closed(Exception):
    """The peer went away."""


async def _read_head(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as exc:
        raise _Closed() from exc


def _headers(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    pairs = []
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            pairs.append((name.strip(), value.strip()))
    return lines[0], pairs


def _get(pairs: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in pairs if k.lower() == name), None)


async def _read_body(reader: asyncio.StreamReader, pairs: list[tuple[str, str]], *, to_eof: bool) -> bytes:
    """The raw body bytes (chunked framing kept as it is)."""
    if (_get(pairs, "transfer-encoding") or "").lower() == "chunked":
        raw = bytearray()
        while True:
            line = await reader.readuntil(b"\r\n")
            raw += line
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while True:  # trailers, then the empty line
                    trailer = await reader.readuntil(b"\r\n")
                    raw += trailer
                    if trailer == b"\r\n":
                        return bytes(raw)
            raw += await reader.readexactly(size + 2)
    length = _get(pairs, "content-length")
    if length is not None:
        return await reader.readexactly(int(length))
    return await reader.read() if to_eof else b""


class FaultProxy:
    def __init__(
        self,
        upstream: str | None = None,
        *,
        rate: float = 0.0,
        faults: tuple[str, ...] = FAULTS,
        rules: tuple[Rule, ...] = (),
        seed: int = 0,
        stall_seconds: float = 3.0,
        bandwidth: float | None = None,
        max_requests: int = 100_000,
        max_seconds: float = 1800.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if not _loopback(host):
            raise ValueError("the fault proxy listens only on a loopback address")
        unknown = set(faults).union(*(r.faults for r in rules)) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults: {sorted(unknown)}")
        self.upstream: tuple[str, int] | None = None
        if upstream:
            self.set_upstream(upstream)
        self._rule_hits: Counter = Counter()
        self.rate, self.faults, self.rules, self.seed = rate, tuple(faults), tuple(rules), seed
        self.stall_seconds = stall_seconds
        #: Bytes per second for answers' bodies (None: as fast as possible), e.g. to kill a download midway.
        self.bandwidth = bandwidth
        self.max_requests, self.max_seconds = max_requests, max_seconds
        self.stats = Stats()
        self.enabled = True  # False: forward everything untouched
        self._seen: Counter = Counter()
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(512)
        self.url = f"http://{host}:{self._sock.getsockname()[1]}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._writers: set[asyncio.StreamWriter] = set()

    def set_upstream(self, url: str) -> None:
        """Where to forward (a server started after the proxy, e.g. to give it the proxy's URL)."""
        parts = urlsplit(url)
        if not parts.hostname or not _loopback(parts.hostname):
            raise ValueError("the fault proxy forwards only to a loopback address")
        self.upstream = (parts.hostname, parts.port or 80)

    # -- choosing faults -------------------------------------------------------------------
    def choose(self, method: str, path: str) -> str | None:
        """The fault for this request (deterministic in seed, route and occurrence)."""
        route = f"{method} {path.split('?', 1)[0]}"
        with self._lock:
            self._seen[route] += 1
            n = self._seen[route]
        if not self.enabled:
            return None
        rate, faults, matched = self.rate, self.faults, None
        for i, rule in enumerate(self.rules):
            if rule.matches(route):
                rate, faults, matched = rule.rate, rule.faults, i
                break
        rng = random.Random(f"{self.seed}|{route}|{n}")
        if rate <= 0 or rng.random() >= rate or not faults:
            return None
        if matched is not None:
            with self._lock:
                limit = self.rules[matched].limit
                if limit is not None and self._rule_hits[matched] >= limit:
                    return None
                self._rule_hits[matched] += 1
        return rng.choice(faults)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._serve(ready))
            self._loop.close()

        self._thread = threading.Thread(target=run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fault proxy did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and not self._stopped.is_set():
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _serve(self, ready: threading.Event) -> None:
        server = await asyncio.start_server(self._client, sock=self._sock, limit=1 << 20)
        ready.set()
        deadline = time.monotonic() + self.max_seconds
        async with server:
            while not self._stopped.is_set() and time.monotonic() < deadline \
                    and self.stats.requests < self.max_requests:
                await asyncio.sleep(0.05)
            server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self._stopped.set()

    # -- one client connection ---------------------------------------------------------------
    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while not self._stopped.is_set():
                if not await self._one_request(reader, writer):
                    break
        except (_Closed, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:  # the proxy is stopping
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    async def _one_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Relay one request; False when the client connection is done."""
        head = await _read_head(reader)
        request_line, pairs = _headers(head)
        method, target = request_line.split(" ", 2)[:2]
        body = await _read_body(reader, pairs, to_eof=False)
        fault = self.choose(method, target)
        event = Event(f"{method} {target.split('?', 1)[0]}", fault, None, _get(pairs, "range"))
        self.stats.events.append(event)
        client_wants_close = (_get(pairs, "connection") or "").lower() == "close"
        if fault == "503":
            await self._answer(writer, 503, b'{"detail": "injected fault: service unavailable"}')
            return not client_wants_close
        status, response_head, response_pairs, response_body = await self._forward(head, body, method)
        event.status = status
        if fault == "500":
            await self._answer(writer, 500, b'{"detail": "injected fault: the answer was lost"}')
            return not client_wants_close
        if fault == "stall":
            await asyncio.sleep(self.stall_seconds)
            return False
        raw = response_head + response_body
        if fault == "reset":
            cut = len(response_head) + len(response_body) // 2 if response_body else len(response_head) // 2
            writer.write(raw[:cut])
            await writer.drain()
            sock = writer.get_extra_info("socket")
            if sock is not None:  # SO_LINGER 0: close with a reset, not a FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if fault == "truncate":
            cut = len(response_head) + len(response_body) // 2 if len(response_body) > 1 else len(response_head) // 2
            writer.write(raw[:cut])
            await writer.drain()
            return False
        await self._send(writer, response_head, response_body, event)
        delimited_by_close = not (
            _get(response_pairs, "content-length") is not None
            or (_get(response_pairs, "transfer-encoding") or "").lower() == "chunked"
            or method == "HEAD" or status in _NO_BODY_STATUSES
        )
        return not (client_wants_close or delimited_by_close)

    async def _forward(self, head: bytes, body: bytes, method: str) -> tuple[int, bytes, list, bytes]:
        """Send the request upstream on a fresh connection; the whole answer, raw."""
        request_line, pairs = _headers(head)
        kept = [(k, v) for k, v in pairs if k.lower() not in ("connection", "keep-alive")]
        lines = [request_line, *(f"{k}: {v}" for k, v in kept), "Connection: close", "X-Forwarded-For: 127.0.0.1"]
        assert self.upstream is not None, "set_upstream() first"
        up_reader, up_writer = await asyncio.open_connection(*self.upstream, limit=1 << 20)
        try:
            up_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            await up_writer.drain()
            response_head = await _read_head(up_reader)
            status_line, response_pairs = _headers(response_head)
            status = int(status_line.split(" ", 2)[1])
            no_body = method == "HEAD" or status in _NO_BODY_STATUSES or status < 200
            response_body = b"" if no_body else await _read_body(up_reader, response_pairs, to_eof=True)
        finally:
            up_writer.close()
        # The upstream connection was one-shot; the client's may stay open.
        delimited = _get(response_pairs, "content-length") is not None or \
            (_get(response_pairs, "transfer-encoding") or "").lower() == "chunked" or no_body
        kept_response = [(k, v) for k, v in response_pairs if k.lower() not in ("connection", "keep-alive")]
        out = [status_line, *(f"{k}: {v}" for k, v in kept_response)]
        if not delimited:
            out.append("Connection: close")
        response_head = ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")
        return status, response_head, response_pairs, response_body

    async def _send(self, writer: asyncio.StreamWriter, head: bytes, body: bytes, event: Event) -> None:
        writer.write(head)
        step = max(1, int(self.bandwidth / 20)) if self.bandwidth else max(1, len(body))
        for start in range(0, len(body), step):
            writer.write(body[start : start + step])
            await writer.drain()
            event.body_bytes += len(body[start : start + step])
            if self.bandwidth:
                await asyncio.sleep(0.05)
        await writer.drain()

    @staticmethod
    async def _answer(writer: asyncio.StreamWriter, status: int, body: bytes) -> None:
        reason = {500: "Internal Server Error", 503: "Service Unavailable"}[status]
        writer.write(f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
                     f"content-length: {len(body)}\r\n\r\n".encode() + body)  # fmt: skip
        await writer.drain()


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.faults.proxy UPSTREAM --rate 0.1 --seed 1 --port 9000``: run it in the foreground."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m tests.faults.proxy", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("upstream", help="the server's URL, e.g. http://127.0.0.1:8900")
    p.add_argument("--rate", type=float, default=0.1)
    p.add_argument("--fault", action="append", choices=FAULTS, help="faults to inject (default: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--stall-seconds", type=float, default=3.0)
    p.add_argument("--max-seconds", type=float, default=1800.0)
    args = p.parse_args(argv)
    proxy = FaultProxy(args.upstream, rate=args.rate, faults=tuple(args.fault or FAULTS), seed=args.seed,
                       port=args.port, stall_seconds=args.stall_seconds, max_seconds=args.max_seconds).start()
    print(proxy.url, flush=True)
    try:
        while not proxy._stopped.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    proxy.stop()
    print(f"{proxy.stats.requests} requests, faults: {dict(proxy.stats.faults)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
