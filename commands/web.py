"""gb2_web: a light web view of your projects, for the browser and the phone."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common


@click.command(
    "gb2_web",
    context_settings=CONTEXT,
    help="""Show your projects in a web browser: progress, counts, failures per
cause, sites, jobs over time, each job's statuses and log, the output dataset;
reschedule failed jobs or kill a project (after a confirmation). The pages
update by themselves while jobs move. A gb2 tool; gbasf2 has none.

The first line of output is the address to open. It holds a one-time key:
the view listens on 127.0.0.1 only and refuses requests without the key (or
the cookie it sets in your browser), so other accounts on this machine
cannot use it. Your grid token stays in this process and never reaches the
browser. The view is of the active profile (--profile to choose), as you
are logged in there (gb2_proxy_init first). Ctrl-C stops it.

To see it on a phone, forward the port (e.g. ssh -L) and open the same
address there.
""",
)
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")  # fmt: skip
@click.option("--open", "open_browser", is_flag=True, help="Open the view in your web browser.")
@common
def cli(port: int, open_browser: bool, profile: str | None, debug: bool) -> int:
    import sys

    from gb2.errors import BadInput
    from gb2.session import Session

    session = Session.open(profile)
    user = session.username  # not logged in: exit 3 before anything listens
    session.diracx.access_token()  # an expired login too
    from gb2.web.serve import WebServer

    try:
        server = WebServer(session, port=port)
    except OSError as exc:
        raise BadInput(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    print(server.login_url, flush=True)
    print(f"gb2_web: {user}'s projects on profile {session.profile.name}: open the address above "
          "(it holds a one-time key; Ctrl-C stops)", file=sys.stderr)  # fmt: skip
    if open_browser:
        import webbrowser

        webbrowser.open(server.login_url)
    server.serve_forever()
    return 0
