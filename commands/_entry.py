"""Console entry points. ``<tool> --help`` is answered from generated text without
importing click or gb2, so it starts about as fast as Python itself; everything
else imports the tool's click command and runs it through gb2's error handling.
"""

from __future__ import annotations

import sys

from commands._registry import TOOLS


def run(tool: str, argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 1 and args[0] in ("--help", "-h"):
        from commands._helptext import HELP

        text = HELP.get(tool)
        if text is not None:
            sys.stdout.write(text)
            return 0
    import importlib

    # httpx imports its own command-line client (rich's console, pygments) when it is
    # importable; gb2 never uses it, and skipping it saves a third of httpx's import time
    # on every command that talks to a server.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    from gb2.gc_tuning import tune_for_bulk_work
    from gb2.ui.errors import run_click

    tune_for_bulk_work()

    module = importlib.import_module(TOOLS[tool][0])
    return run_click(getattr(module, "COMMANDS", {}).get(tool) or module.cli, tool, args)


def _entry_point(tool: str):  # type: ignore[no-untyped-def]
    def main() -> None:
        code = run(tool)
        # 130 is gb2.errors.ExitCode.INTERRUPTED (Ctrl-C), written out so that --help, answered
        # without gb2, imports nothing more: calls still running in worker threads are given up.
        if code == 130:
            from gb2.workers import exit_now

            exit_now(code)
        sys.exit(code)

    main.__name__ = tool
    return main


for _tool in TOOLS:
    globals()[_tool] = _entry_point(_tool)
