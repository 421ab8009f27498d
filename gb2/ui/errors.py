"""How every command ends: one line on stderr and a documented exit code.

Commands run through :func:`run_click`: errors from gb2 become
``<tool>: error: <message>`` with their exit code, click usage errors exit 2 with
one line, Ctrl-C exits 130, and a bug prints a one-line notice (the traceback only
with ``--debug`` or ``GB2_DEBUG=1``).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from gb2.errors import ExitCode, Gb2Error


def one_line(message: str) -> str:
    """A message as one line: control characters (a newline inside a user's LPN, a
    server's multi-line reason) are shown escaped, so an error never splits."""
    if message.isprintable():
        return message
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in message)


def error_line(tool: str, message: str) -> None:
    print(f"{tool}: error: {one_line(message)}", file=sys.stderr, flush=True)


def debug_enabled(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("GB2_DEBUG") == "1"


class _RetryLines:
    """Under ``--debug`` every retry is one line on stderr: ``<tool>: retry 1/5 in 0.5 s: ...``."""

    def __init__(self, tool: str) -> None:
        import logging

        class Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                print(f"{tool}: {record.getMessage()}", file=sys.stderr, flush=True)

        self.logger = logging.getLogger("gb2.retry")
        self.handler = Handler()
        self.level = self.logger.level

    def __enter__(self) -> None:
        import logging

        self.logger.addHandler(self.handler)
        self.logger.setLevel(logging.INFO)

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.level)


def _usage_message(exc: Any) -> str:
    """Click's message, except for a group called without its subcommand, where click
    gives the whole help text as the message: name the subcommands in one line instead."""
    import click

    group = exc.ctx.command if exc.ctx is not None else None
    if isinstance(exc, getattr(click.exceptions, "NoArgsIsHelpError", ())) and isinstance(group, click.Group):
        return f"missing command: one of {', '.join(sorted(group.commands))}"
    return exc.format_message()


def _print_traceback() -> None:
    import traceback  # only under --debug: most commands never need it

    traceback.print_exc()


def run_click(command: Any, tool: str, argv: list[str]) -> int:
    import click

    debug = debug_enabled(argv)
    try:
        if debug:
            with _RetryLines(tool):
                result = command.main(args=argv, prog_name=tool, standalone_mode=False)
        else:
            result = command.main(args=argv, prog_name=tool, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code or 0)
    except click.exceptions.Abort:
        error_line(tool, "aborted")
        return ExitCode.INTERRUPTED
    except click.UsageError as exc:
        error_line(tool, f"{_usage_message(exc)} (see {tool} --help)")
        return ExitCode.USAGE
    except click.ClickException as exc:
        error_line(tool, exc.format_message())
        return exc.exit_code
    except Gb2Error as exc:
        if debug:
            _print_traceback()
        error_line(tool, str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        error_line(tool, "interrupted")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error of ours.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        except OSError:
            pass
        return ExitCode.OK
    except Exception as exc:  # a bug: say so briefly, keep the traceback for --debug
        if debug:
            _print_traceback()
        error_line(tool, f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)")
        return ExitCode.FAILED
    if isinstance(result, int):
        return result
    return ExitCode.OK
