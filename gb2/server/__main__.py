"""``python -m gb2.server``: the embedded server in the foreground.

The first line on stdout is the base URL, so scripts can start it with
``--port 0`` and read where it listens.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

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
    if args.public_url:
        if not args.public_url.startswith(("http://", "https://")):
            raise ValueError(f"--public-url must be an http(s) URL, not {args.public_url!r}")
        settings.public_url = args.public_url.rstrip("/")
    return settings


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = settings_from_args(args)
        from gb2.server.runner import EmbeddedServer, ServerAlreadyRunning

        server = EmbeddedServer(settings, idle_timeout=args.idle_timeout)
    except ServerAlreadyRunning as exc:
        print(f"gb2 server: {exc}", file=sys.stderr)
        return 3
    except (OSError, ValueError) as exc:
        print(f"gb2 server: {exc}", file=sys.stderr)
        return 2
    print(server.url, flush=True)
    print(f"gb2 server: logins are approved only with the secret in {settings.login_secret_path}", file=sys.stderr)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
