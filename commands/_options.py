"""Options shared by every command, so each behaves the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

CONTEXT: dict[str, Any] = {
    "help_option_names": ["-h", "--help"],
    "max_content_width": 80,
    "terminal_width": 80,
}


def common(f: Callable[..., Any]) -> Callable[..., Any]:
    """--profile and --debug (gb2 additions, present on every tool)."""
    f = click.option(
        "--profile", metavar="NAME", default=None, envvar="GB2_PROFILE",
        help="[gb2] Profile to use (default: the active one; see gb2_config).",
    )(f)  # fmt: skip
    f = click.option("--debug", is_flag=True, help="[gb2] Show tracebacks on errors.")(f)
    return f


def json_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="[gb2] Print JSON (stable keys, see README).")(f)


#: The help of --auto_reschedule and --notify, in the help of each tool that has --wait.
FOLLOWING_HELP = """  --auto_reschedule N  (with --wait) retry failures as they come, at most N
              times per job: deterministic ones (an error in the analysis)
              never; the others as their failure cluster suggests (with the
              site banned, more CPU time, or as they were). Retrying stops,
              saying why, when a quarter of the jobs failed with one
              signature, or when nothing succeeded after 20 failures. Each
              decision is shown, and in --json ("auto_reschedule")
  --notify    (with --wait) a desktop notification and/or a POST to the
              profile's webhook (gb2_config notify) when the jobs have ended,
              or when the failure rate passes the profile's threshold
"""


def wait_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--wait, --interval, --timeout, --auto_reschedule, --notify: following jobs live (gb2 additions)."""
    f = click.option("--notify", is_flag=True,
                     help="[gb2] With --wait: notify when the jobs end or fail too much (gb2_config notify).")(f)  # fmt: skip
    f = click.option("--auto_reschedule", type=click.IntRange(1, 10), default=None, metavar="N",
                     help="[gb2] With --wait: retry failures that are worth it, at most N times per job.")(f)  # fmt: skip
    f = click.option("--timeout", type=click.FloatRange(0), default=None,
                     help="[gb2] Give up waiting after this many seconds.")(f)  # fmt: skip
    f = click.option("--interval", type=click.FloatRange(0.1), default=5.0, show_default=True,
                     help="[gb2] Seconds between refreshes with --wait.")(f)  # fmt: skip
    return click.option("--wait", is_flag=True, help="[gb2] Follow live until every job is final.")(f)


def following(tool: str, wait: bool, auto_reschedule: int | None, notify: bool) -> Any:
    """What --wait does besides following; --auto_reschedule and --notify need --wait."""
    if not wait and (auto_reschedule is not None or notify):
        from gb2.errors import BadInput

        raise BadInput(f"{'--auto_reschedule' if auto_reschedule is not None else '--notify'} goes with --wait")
    from gb2.ui.reports import Following

    return Following(auto_reschedule, notify, tool)


def user_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("-u", "--user", metavar="USER", default=None, callback=not_empty("a user"),
                        help="Act on another user's projects (default: you).")(f)  # fmt: skip


def se_option(help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--se SE``: one storage element; an empty value is refused, never read as "all"."""
    return click.option("--se", default=None, metavar="SE", callback=not_empty("a storage element"), help=help)


def not_empty(what: str) -> Callable[[click.Context, click.Parameter, str | None], str | None]:
    """A callback refusing an empty value (``-u ''`` must not silently mean "you")."""

    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise click.BadParameter(f"was given an empty value: name {what}", ctx, param)
        return value

    return check


def split_values(values: tuple[str, ...], option: str | None = None) -> list[str]:
    """``-j 1,2 -j 3`` and ``-j 1 2 3`` forms alike.

    With ``option``, an option given only empty values (``-j ''``, ``-p ','``) is
    refused: it must never widen a selection to all your jobs.
    """
    items = [v for value in values for v in value.replace(",", " ").split() if v]
    if option and values and not items:
        from gb2.errors import BadInput

        raise BadInput(f"{option} was given an empty value: name at least one")
    return items


def selectors(projects: tuple[str, ...], job_ids: tuple[str, ...], statuses: tuple[str, ...],
              user: str | None) -> tuple[list[str], list[str], list[str], str | None]:
    """The -p/-j/--status/-u values as lists, checked before any network call: an empty
    value (see :func:`split_values`), a job id that is not one, an unknown status."""
    from gb2.jobs.status import parse_selectors

    selected = (split_values(projects, "-p/--project"), split_values(job_ids, "-j/--jobid"),
                split_values(statuses, "--status"), user)  # fmt: skip
    parse_selectors(selected[1], selected[2])
    return selected


def selection_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """gbasf2's job selectors: -p projects, -j job ids, --status, -u/--user."""
    f = user_option(f)
    f = click.option("-s", "--status", "statuses", multiple=True, metavar="STATUS",
                     help="Only jobs in this status (e.g. Failed).")(f)  # fmt: skip
    f = click.option("-j", "--jobid", "job_ids", multiple=True, metavar="ID", help="Job id(s).")(f)
    return click.option("-p", "--project", "projects", multiple=True, metavar="PROJECT", help="Project(s).")(f)


class GreedyCommand(click.Command):
    """gbasf2's list options take several values after one flag (argparse ``nargs='+'``):
    ``-f a.so b.xml`` or ``-p proj1 proj2``. They are rewritten to repeated options
    (``-f a.so -f b.xml``) before click parses them; values stop at the next option.
    """

    greedy: tuple[str, ...] = ()

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        out: list[str] = []
        current: str | None = None
        for token in args:
            if token == "--":
                current = None
                out.append(token)
            elif token in self.greedy:
                current = token
                out.append(token)
            elif current is not None and not token.startswith("-") and out and out[-1] != current:
                out += [current, token]
            else:
                if token.startswith("-"):
                    current = None
                out.append(token)
        return super().parse_args(ctx, out)


def greedy(*options: str) -> type[GreedyCommand]:
    return type("Greedy", (GreedyCommand,), {"greedy": options})
