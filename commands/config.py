"""gb2_config: show and change profiles; manage the embedded server."""

from __future__ import annotations

import click

from commands._options import CONTEXT, json_option


@click.group(
    "gb2_config",
    context_settings=CONTEXT,
    invoke_without_command=True,
    help="""Show or change gb2's profiles (a gb2 tool; gbasf2 has none).

Without a subcommand, shows the profiles and which one is active. The default
profile "embedded" runs the grid on this machine; a "remote" profile points at
real DiracX and Rucio servers. GB2_PROFILE or --profile choose one per command.
""",
)
@json_option
@click.pass_context
def cli(ctx: click.Context, as_json: bool) -> int:
    if ctx.invoked_subcommand is not None:
        return 0
    from gb2.config import Config, config_path
    from gb2.ui.output import plain_table, print_json

    config = Config.load()
    if as_json:
        print_json({
            "active_profile": config.active_profile,
            "config_file": str(config_path()),
            "profiles": {name: {"name": name, **p.to_yaml()} for name, p in config.profiles.items()},
        })  # fmt: skip
        return 0
    print(f"config file: {config_path()}")
    rows = []
    for name, p in sorted(config.profiles.items()):
        where = f"this machine ({p.server_dir})" if p.embedded else f"{p.diracx_url} | {p.rucio_url}"
        rows.append(("*" if name == config.active_profile else "", name, p.type, where))
    plain_table(("", "Profile", "Type", "Servers"), rows)
    return 0


@cli.command("use", help="Make PROFILE the active profile.")
@click.argument("name")
def use(name: str) -> None:
    from gb2.config import Config

    config = Config.load()
    config.profile(name)  # validates
    config.active_profile = name
    print(f"active profile: {name} ({config.save()})")


@cli.command("add", help="Add or replace a remote profile pointing at real DiracX and Rucio servers.")
@click.argument("name")
@click.option("--diracx", "diracx_url", required=True, metavar="URL", help="DiracX base URL.")
@click.option("--rucio", "rucio_url", required=True, metavar="URL", help="Rucio base URL.")
@click.option("--rucio-auth", type=click.Choice(["token", "userpass"]), default="token", show_default=True,
              help="token: send the DiracX token to Rucio (OIDC); userpass: Rucio account and password.")
@click.option("--rucio-account", default=None)
@click.option("--rucio-username", default=None)
@click.option("--rucio-password-env", default=None, metavar="VAR", help="Environment variable holding the Rucio password.")
@click.option("--rucio-password-file", default=None, metavar="FILE", help="File holding the Rucio password.")
@click.option("--login-secret-file", default=None, metavar="FILE",
              help="A gb2 server (gb2_mock_server) only: its login secret file (<data-dir>/keys/login-secret), "
                   "so that gb2_proxy_init logs in without a browser.")
@click.option("--group", default="belle", show_default=True)
@click.option("--site", default=None, metavar="SITE",
              help="Your DIRAC site (e.g. LCG.KEK.jp): replicas there are read first (default: guessed).")
@click.option("--use", "activate", is_flag=True, help="Also make it the active profile.")
def add(name: str, activate: bool, **values: str | None) -> None:  # fmt: skip
    from gb2.config import EMBEDDED, Config, Profile
    from gb2.errors import BadInput

    if name == EMBEDDED:
        raise BadInput("the embedded profile cannot be replaced")
    config = Config.load()
    config.profiles[name] = Profile(name, "remote", **{k: v for k, v in values.items() if v is not None}).validate()
    if activate:
        config.active_profile = name
    print(f"profile {name} saved ({config.save()})")


@cli.command("site", help="""Show or set your DIRAC site (e.g. LCG.KEK.jp) for a profile.

Downloads and jobs read the closest healthy replica first: storage elements
at your site, then the next closest by the catalogue's distances. Without a
site set, gb2 guesses it from this machine's domain name; GB2_SITE overrides
it for one command. "--unset" goes back to guessing.""")
@click.argument("site", required=False)
@click.option("--unset", is_flag=True, help="Forget the site (guess it again).")
@click.option("--profile", default=None, envvar="GB2_PROFILE", help="The profile (default: the active one).")
def site(site: str | None, unset: bool, profile: str | None) -> None:
    from gb2.config import Config
    from gb2.data.replica_order import user_site

    config = Config.load()
    chosen = config.profile(profile)
    if site is None and not unset:
        where = "set" if chosen.site else "guessed"
        shown = user_site(chosen.site)
        print(f"{chosen.name}: {shown} ({where})" if shown else f"{chosen.name}: no site (none set, none guessed)")
        return
    chosen.site = None if unset else site.strip()
    config.profiles[chosen.name] = chosen.validate()
    print(f"{chosen.name}: site {'unset' if unset else chosen.site} ({config.save()})")


@cli.command("notify", help="""[gb2] Show or set where --wait --notify sends its notifications.

--wait --notify (gb2_job_status, gb2_project_summary) tells you when the jobs
have all ended, or when the failure rate of the ended ones passes a threshold:
a desktop notification where notify-send is available, and a JSON POST to the
profile's webhook URL if one is set ({"text", "event", "selection", "counts",
"failure_rate"}: Mattermost and Slack incoming webhooks show "text").""")
@click.option("--webhook", default=None, metavar="URL", help="The webhook URL (http or https).")
@click.option("--failure-rate", type=click.FloatRange(0, 1, min_open=True), default=None, metavar="R",
              help="Notify when this fraction of the ended jobs has failed (default 0.2).")
@click.option("--unset", is_flag=True, help="Forget the webhook.")
@click.option("--profile", default=None, envvar="GB2_PROFILE", help="The profile (default: the active one).")
def notify(webhook: str | None, failure_rate: float | None, unset: bool, profile: str | None) -> None:
    from gb2.config import Config

    config = Config.load()
    chosen = config.profile(profile)
    if webhook is None and failure_rate is None and not unset:
        print(f"{chosen.name}: webhook {chosen.notify_webhook or 'none'}, failure rate {chosen.notify_failure_rate:g}")
        return
    if unset:
        chosen.notify_webhook = None
    if webhook is not None:
        chosen.notify_webhook = webhook.strip()
    if failure_rate is not None:
        chosen.notify_failure_rate = failure_rate
    config.profiles[chosen.name] = chosen.validate()
    print(f"{chosen.name}: webhook {chosen.notify_webhook or 'none'}, failure rate "
          f"{chosen.notify_failure_rate:g} ({config.save()})")  # fmt: skip


@cli.command("remove", help="Remove a profile.")
@click.argument("name")
def remove(name: str) -> None:
    from gb2.config import EMBEDDED, Config
    from gb2.errors import BadInput

    config = Config.load()
    if name == EMBEDDED or name not in config.profiles:
        raise BadInput(f"cannot remove profile {name!r}")
    del config.profiles[name]
    if config.active_profile == name:
        config.active_profile = EMBEDDED
    print(f"profile {name} removed ({config.save()})")


@cli.command("gbasf2-setup", help="""[gb2] Print the absolute path of gb2's gbasf2 setup script.

Tools that drive gbasf2, such as b2luigi, source a gbasf2 setup script before
they run gbasf2 commands; set b2luigi's gbasf2_setup_path to this path. Sourcing
it (with -g GROUP, as b2luigi does) puts gb2's interpreter and commands first on
PATH and gb2's DIRAC/BelleDIRAC compatibility modules on PYTHONPATH.
""")
def gbasf2_setup() -> None:
    from gb2.gbasf2_env import setup_script

    print(setup_script())


@cli.command("server", help="Status, start or stop of the embedded server of the active profile.")
@click.argument("action", type=click.Choice(["status", "start", "stop"]), default="status")
@click.option("--profile", default=None, envvar="GB2_PROFILE")
def server(action: str, profile: str | None) -> int:
    from gb2 import embedded
    from gb2.config import active_profile
    from gb2.errors import BadInput, ExitCode, ServerUnreachable

    chosen = active_profile(profile)
    if not chosen.embedded:
        raise BadInput(f"profile {chosen.name} uses remote servers")
    if action == "start":
        print(embedded.ensure_server(chosen))
        return 0
    if action == "stop":
        print("stopped" if embedded.stop_server(chosen) else "not running")
        return 0
    url = embedded.running_url(chosen)
    if not url:
        print("not running")
        raise ServerUnreachable(f"the embedded server of profile {chosen.name} is not running "
                                "(gb2_config server start, or any command, starts it)")  # fmt: skip
    print(f"running at {url}")
    return ExitCode.OK
