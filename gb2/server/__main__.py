"""``python -m gb2.server``: the embedded server in the foreground.

The first line on stdout is the base URL, so scripts can start it with
``--port 0`` and read where it listens.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gb2.paths import data_dir


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gb2.server", description=__doc__)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one")
    p.add_argument("--data-dir", type=Path, default=None, help="state directory (default: <gb2 data dir>/server)")
    p.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="NAME[:GROUPS][:PASSWORD]",
        help="a user (repeatable); the first is the one the device flow logs in; default: you",
    )
    p.add_argument("--workers", type=int, default=None, help="parallel job slots (default: cores)")
    p.add_argument("--no-engine", action="store_true", help="accept jobs but do not run them")
    p.add_argument("--no-scouting", action="store_true",
                   help="hold no job for scout jobs, like a stock DiracX (gb2 clients then hold them)")
    p.add_argument("--heartbeat-seconds", type=float, default=None,
                   help="seconds between a running job's heartbeats (default 30)")
    p.add_argument("--stall-seconds", type=float, default=None,
                   help="a job silent this long is Stalled, and Failed after as long again (default 600)")
    p.add_argument("--public-url", default=None, metavar="URL",
                   help="base URL of a proxy in front of this server: URLs handed out through it carry it")
    p.add_argument("--basf2", default=None, help="basf2 command (default: basf2 on PATH, else gb2's stand-in)")
    p.add_argument("--ban-site", action="append", default=[], metavar="SITE[=REASON]",
                   help="put a site in the site mask: no job is matched there (repeatable)")
    p.add_argument("--site-slots", action="append", default=[], metavar="SITE=N",
                   help="at most N jobs at once at SITE (repeatable)")
    p.add_argument("--cpu-normalization", type=float, default=None, metavar="F",
                   help="the workers' CPU normalisation factor: a job's CPUTime allows CPUTime/F real seconds")
    p.add_argument("--fault", action="append", default=[], metavar="SITE=KIND",
                   help="inject a fault at SITE: input (its workers cannot read input files), lost or lost:N "
                        "(the worker of a job there dies; lost:N: the first N jobs of each project) (repeatable)")
    p.add_argument(
        "--idle-timeout", type=float, default=0,
        help="stop after this many seconds without requests or jobs (default 0: never)",
    )  # fmt: skip
    p.add_argument("--log-level", default="warning")
    return p


def settings_from_args(args: argparse.Namespace):
    from gb2.server.settings import ServerSettings, load_users_file, parse_user_option

    directory = args.data_dir or (data_dir() / "server")
    users = [parse_user_option(u) for u in args.user] or load_users_file(directory / "users.yaml")
    settings = ServerSettings(data_dir=directory, host=args.host, port=args.port, users=users)
    if args.workers is not None:
        settings.workers = max(1, args.workers)
    if args.no_engine:
        settings.run_engine = False
    if args.no_scouting:
        settings.scouting = False
    if args.heartbeat_seconds is not None:
        settings.heartbeat_seconds = args.heartbeat_seconds
    if args.stall_seconds is not None:
        settings.stall_seconds = args.stall_seconds
        settings.stalled_to_failed_seconds = args.stall_seconds
    if args.basf2:
        settings.basf2_command = args.basf2
    for spec in args.ban_site:
        site, _, reason = spec.partition("=")
        settings.banned_sites[site] = reason or "Banned"
    for spec in args.site_slots:
        site, _, n = spec.partition("=")
        if not (site and n.isdigit()):
            raise ValueError(f"--site-slots {spec}: give SITE=N, N a whole number")
        settings.site_slots[site] = int(n)
    if args.cpu_normalization is not None:
        if not args.cpu_normalization > 0:
            raise ValueError("--cpu-normalization must be a positive number")
        settings.cpu_normalization = args.cpu_normalization
    for spec in args.fault:
        site, _, kind = spec.partition("=")
        if not (kind == "input" or kind == "lost" or (kind.startswith("lost:") and kind[5:].isdigit())):
            raise ValueError(f"--fault {spec}: the kind is input, lost or lost:N")
        settings.worker_faults[site] = kind
    if args.public_url:
        if not args.public_url.startswith(("http://", "https://")):
            raise ValueError(f"--public-url must be an http(s) URL, not {args.public_url!r}")
        settings.public_url = args.public_url.rstrip("/")
    return settings


def create_server(argv: list[str] | None = None):  # type: ignore[no-untyped-def]
    """The server the arguments describe, bound and ready to serve; a bad argument, a data
    dir that cannot be used or a port in use raise :class:`gb2.errors.BadInput`, a data
    dir held by another server :class:`gb2.server.runner.ServerAlreadyRunning`."""
    from gb2.errors import BadInput
    from gb2.server.runner import EmbeddedServer

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = settings_from_args(args)
        return EmbeddedServer(settings, idle_timeout=args.idle_timeout)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    except OSError as exc:
        raise BadInput(f"cannot start the server: {exc.strerror or exc}") from None


def main(argv: list[str] | None = None, after_start: Callable[[Any], None] | None = None) -> int:
    from gb2.errors import Gb2Error
    from gb2.gc_tuning import tune_for_bulk_work
    from gb2.server.runner import ServerAlreadyRunning

    tune_for_bulk_work()

    try:
        server = create_server(argv)
    except ServerAlreadyRunning as exc:
        print(f"gb2 server: {exc}", file=sys.stderr)
        return 3
    except Gb2Error as exc:
        print(f"gb2 server: {exc}", file=sys.stderr)
        return 2
    return serve(server, after_start)


def serve(server, after_start: Callable[[Any], None] | None = None) -> int:  # type: ignore[no-untyped-def]
    """Announce the URL (first line of stdout) and serve until stopped. ``after_start(server)``
    runs in a thread once the server answers (gb2_mock_server --web); if it fails, the server
    stops and the exit code is 1."""
    settings = server.settings
    print(server.url, flush=True)
    print(f"gb2 server: logins are approved only with the secret in {settings.login_secret_path}", file=sys.stderr)
    failed: list[str] = []
    if after_start is not None:

        def run_after_start() -> None:
            while not server.started:
                time.sleep(0.02)
            try:
                after_start(server)
            except Exception as exc:  # reported, and the server stops: it was asked for with this
                failed.append(str(exc))
                print(f"gb2 server: {exc}", file=sys.stderr, flush=True)
                server.shutdown()

        threading.Thread(target=run_after_start, name="gb2-after-start", daemon=True).start()
    server.serve_forever()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
