"""gb2_proxy_init, gb2_proxy_info, gb2_proxy_destroy."""

from __future__ import annotations

import sys

import click

from commands._options import CONTEXT, common, json_option


@click.command(
    "gb2_proxy_init",
    context_settings=CONTEXT,
    help="""Log in and cache your credentials for the other tools.

gbasf2 creates an X.509 proxy; gb2 logs in to DiracX with the OAuth2 device
flow and caches the tokens (mode 0600) in your cache dir. On the embedded
profile (the default) the login is approved at once for you on this machine,
with the server's login secret that only your account can read; on a real
server, open the printed link and enter the code.

\b
Differences from gbasf2 (the flags still work):
  -v HH:MM    ends the login after HH:MM (gb2 stops using and renewing it);
              it cannot outlast the login the server grants
  --pwstdin   accepted; a password read from stdin is discarded (no certificate)
  --user NAME [gb2] on a gb2 server (embedded, or gb2_mock_server through a
              profile with --login-secret-file): log in as another user
              configured on that server
""",
)
@click.option("-g", "--group", default="belle", show_default=True, help="DIRAC group to log in with.")
@click.option("-v", "--valid", "validity", metavar="HH:MM", default=None, help="Requested validity (see above).")
@click.option("--pwstdin", is_flag=True, help="Read (and ignore) a certificate password from stdin.")
@click.option("--user", "username", default=None, metavar="NAME",
              help="[gb2] On a gb2 server only: log in as this configured user (see above).")
@json_option
@common
def proxy_init(group: str, validity: str | None, pwstdin: bool, username: str | None, as_json: bool,
               profile: str | None, debug: bool) -> int:  # fmt: skip
    from gb2 import login
    from gb2.session import Session
    from gb2.ui.output import fields_block, print_json

    lifetime = login.parse_lifetime(validity) if validity is not None else None
    if pwstdin and not sys.stdin.isatty():
        sys.stdin.read()
    session = Session.open(profile)
    say = (lambda *a: None) if as_json else print
    say(f"Logging in to DiracX at {session.diracx_url} (profile {session.profile.name}), group {group}...")

    def show(flow: dict) -> None:
        print(f"To log in, open {flow['verification_uri']} and enter the code {flow['user_code']}", file=sys.stderr)
        print(f"  (or open {flow['verification_uri_complete']})", file=sys.stderr, flush=True)

    info = login.login(session, group, show=show, lifetime_seconds=lifetime, username=username)
    if as_json:
        print_json(info.as_json())
        return 0
    print(f"Username is {info.username}")
    if lifetime and info.seconds_left + 60 < lifetime:
        print(f"Note: -v {validity} asked for more than this server grants: {login.hhmmss(info.seconds_left)}")
    print("Proxy generated:")
    print(fields_block(info.fields()))
    return 0


@click.command("gb2_proxy_info", context_settings=CONTEXT,
               help="Show your cached login (gbasf2's proxy block). Exit 3 if you are not logged in or it expired.")
@json_option
@common
def proxy_info(as_json: bool, profile: str | None, debug: bool) -> int:  # fmt: skip
    from gb2 import login
    from gb2.errors import ExitCode
    from gb2.session import Session
    from gb2.ui.errors import error_line
    from gb2.ui.output import fields_block, print_json

    session = Session.open(profile, start=False)  # reads the cache only: no server needed
    info = login.proxy_info(session)
    if info is None:
        if as_json:
            print_json({"profile": session.profile.name, "logged_in": False})
        error_line("gb2_proxy_info", "not logged in: run gb2_proxy_init")
        return ExitCode.AUTH
    if as_json:
        print_json({**info.as_json(), "logged_in": info.seconds_left > 0})
    else:
        print(fields_block(info.fields()))
    if info.seconds_left <= 0:
        error_line("gb2_proxy_info", "your login has expired: run gb2_proxy_init")
        return ExitCode.AUTH
    return 0


@click.command("gb2_proxy_destroy", context_settings=CONTEXT,
               help="Log out: revoke the refresh token on the server and delete the cached tokens.")
@common
def proxy_destroy(profile: str | None, debug: bool) -> int:  # fmt: skip
    from gb2 import login
    from gb2.session import Session

    session = Session.open(profile)
    revoked, deleted = login.logout(session)
    if not deleted:
        print("No cached login to destroy.")
        return 0
    print("Login revoked on the server and tokens deleted." if revoked else "Tokens deleted (the server could not revoke them).")
    return 0


COMMANDS = {"gb2_proxy_init": proxy_init, "gb2_proxy_info": proxy_info, "gb2_proxy_destroy": proxy_destroy}
cli = proxy_init
