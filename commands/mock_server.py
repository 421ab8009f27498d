"""gb2_mock_server: the embedded server in the foreground, for CI smoke tests."""

from __future__ import annotations

import click

from commands._options import CONTEXT


@click.command(
    "gb2_mock_server",
    context_settings=CONTEXT,
    help="""Run gb2's embedded grid (DiracX- and Rucio-compatible routes, storage and
the local engine) in the foreground until Ctrl-C. A gb2 tool; gbasf2 has none.

The first line of output is the base URL. Point a profile at it with
"gb2_config add ci --diracx URL --rucio URL/rucio
--login-secret-file DATA_DIR/keys/login-secret --use", then "gb2_proxy_init"
logs in as the first --user and "gb2_proxy_init --user NAME" as any other.
Logins are approved only with that secret file, which only your account
can read: other accounts on this machine cannot log in.

For demonstrations and tests of what goes wrong on a grid: --ban-site,
--site-slots, --cpu-normalization and --fault make sites banned, full, slow
or faulty (gb2_site_status, gb2_diagnostic --waiting_job and
gb2_project_analysis --failures then have something to say).
""",
)
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="Port (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="State directory (default: the embedded profile's).")
@click.option("--user", "users", multiple=True, metavar="NAME[:GROUPS][:PASSWORD]",
              help="A user (repeatable); the first one is approved by the device flow.")
@click.option("--workers", type=click.IntRange(1), default=None, help="Parallel job slots (default: cores).")
@click.option("--no-engine", is_flag=True, help="Accept jobs without running them.")
@click.option("--no-scouting", is_flag=True,
              help="Hold no job for scout jobs, as a stock DiracX 0.7 (gb2 holds them itself then).")
@click.option("--idle-timeout", type=click.FloatRange(0), default=0, show_default=True, help="Stop after this many idle seconds (0: never).")
@click.option("--heartbeat-seconds", type=click.FloatRange(0.1), default=None,
              help="Seconds between a running job's heartbeats (default 30).")
@click.option("--stall-seconds", type=click.FloatRange(0.1), default=None,
              help="A job silent this long is Stalled, and Failed after as long again (default 600).")
@click.option("--web", is_flag=True,
              help="[gb2] Also serve gb2_web's view of the first user's projects: its address, "
                   "with its one-time key, is the second line of output.")
@click.option("--web-port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="[gb2] Port of the --web view on 127.0.0.1 (0: any free port).")
@click.option("--public-url", default=None, metavar="URL",
              help="Base URL of a proxy in front of this server: storage, sandbox and login URLs "
                   "handed out through it carry it, so downloads go through the proxy too.")
@click.option("--ban-site", "ban_sites", multiple=True, metavar="SITE[=REASON]",
              help="Put a site in the site mask: jobs that can only run there wait.")
@click.option("--site-slots", multiple=True, metavar="SITE=N", help="At most N jobs at once at SITE.")
@click.option("--cpu-normalization", type=click.FloatRange(0, min_open=True), default=None, metavar="F",
              help="The workers' CPU normalisation factor: a job's CPUTime allows CPUTime/F real seconds.")
@click.option("--fault", "faults", multiple=True, metavar="SITE=KIND",
              help="Inject a fault at SITE: input (its workers cannot read input files), lost or lost:N "
                   "(the worker of a job there dies; the first N jobs of each project).")
def cli(port, host, data_dir, users, workers, no_engine, no_scouting, idle_timeout, heartbeat_seconds,  # type: ignore[no-untyped-def]
        stall_seconds, web, web_port, public_url, ban_sites, site_slots, cpu_normalization, faults) -> int:  # fmt: skip
    from gb2.errors import BadInput
    from gb2.server.__main__ import create_server, serve
    from gb2.server.runner import ServerAlreadyRunning

    if data_dir is not None and not data_dir.strip():
        raise BadInput("--data-dir was given an empty value")
    argv = ["--port", str(port), "--host", host, "--idle-timeout", str(idle_timeout)]
    if data_dir:
        argv += ["--data-dir", data_dir]
    else:
        from gb2.config import active_profile

        argv += ["--data-dir", str(active_profile("embedded").server_dir)]
    for user in users:
        argv += ["--user", user]
    if workers:
        argv += ["--workers", str(workers)]
    if no_engine:
        argv.append("--no-engine")
    if no_scouting:
        argv.append("--no-scouting")
    for option, value in (("--heartbeat-seconds", heartbeat_seconds), ("--stall-seconds", stall_seconds),
                          ("--public-url", public_url), ("--cpu-normalization", cpu_normalization)):  # fmt: skip
        if value is not None:
            argv += [option, str(value)]
    for option, values in (("--ban-site", ban_sites), ("--site-slots", site_slots), ("--fault", faults)):
        for value in values:
            argv += [option, value]
    try:
        server = create_server(argv)
    except ServerAlreadyRunning as exc:
        raise BadInput(f"{exc}: stop it first (gb2_config server stop) or use another --data-dir") from None
    after_start = None
    if web:

        def after_start(server):  # type: ignore[no-untyped-def]
            from gb2.web.mock import serve_mock_view

            serve_mock_view(server, port=web_port)

    return serve(server, after_start)
