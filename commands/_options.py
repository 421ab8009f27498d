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


def user_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("-u", "--user", metavar="USER", default=None,
                        help="Act on another user's projects (default: you).")(f)  # fmt: skip
