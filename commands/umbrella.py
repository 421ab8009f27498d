"""gb2: run any gb2 tool as ``gb2 <tool> args``; alone, list the tools."""

from __future__ import annotations

import click

from commands._options import CONTEXT


@click.command(
    "gb2",
    context_settings={**CONTEXT, "ignore_unknown_options": True, "allow_interspersed_args": False},
    help="""Run a gb2 tool: "gb2 job_status -p proj" is "gb2_job_status -p proj"
(the gb2_ prefix is optional). Alone, lists every tool.""",
)
@click.argument("tool", required=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def cli(tool: str | None, args: tuple[str, ...]) -> int:
    from commands._entry import run
    from commands._registry import TOOLS
    from gb2.errors import BadInput

    if tool is None:
        width = max(len(t) for t in TOOLS)
        for name, (_, summary) in TOOLS.items():
            if name != "gb2":
                print(f"{name.ljust(width)}  {summary}")
        return 0
    name = tool if tool in TOOLS else f"gb2_{tool}"
    if name not in TOOLS or name == "gb2":
        raise BadInput(f"unknown tool {tool!r}; run gb2 alone for the list")
    return run(name, list(args))
