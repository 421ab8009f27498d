"""``python -m gb2.standin [options] steering.py [-- args]``: run a steering file like basf2.

Exit status: 0 on success; 1 when the steering file raises (traceback on
stderr), on a FATAL message (unknown option values, errors before processing,
unreadable input), or on a command-line error (``error: ...`` on stderr); the
steering file's own ``sys.exit(n)`` gives ``n``. Log messages go to stdout as
basf2's do; a one-line banner on stderr says this is the stand-in, not basf2.
"""

from __future__ import annotations

import runpy
import sys
import traceback
from pathlib import Path

from gb2.standin import STANDIN_VERSION
from gb2.standin.b2log import B2FATAL, B2INFO, B2WARNING, LOG, Basf2Fatal, LogLevel
from gb2.standin.options import OptionError, Options, parse
from gb2.standin.runtime import ENV

BANNER = (
    f"gb2 basf2 stand-in {STANDIN_VERSION} (not basf2): runs steering files with gb2's "
    "reduced basf2 API; its files are gb2 event files, not ROOT"
)
USAGE = "Usage: python -m gb2.standin [OPTIONS] [STEERING_FILE] [-- [STEERING_FILE_OPTIONS]]"
PYLIB = Path(__file__).resolve().parent / "pylib"
_LEVELS = ("DEBUG", "INFO", "RESULT", "WARNING", "ERROR")
_NO_EFFECT = (
    "package_log_level",
    "module_log_level",
    "debug_level",
    "module-io",
    "dump-path",
    "execute-path",
    "realm",
    "secondary-input",
    "profile",
    "sequence",
)
_NO_EFFECT_FLAGS = ("visualize-dataflow", "zmq", "no-stats")


def _print_help() -> None:
    from gb2.standin.options import FLAGS, VALUE_OPTIONS

    print(USAGE)
    print(BANNER)
    print("\nOptions (basf2's names; see the gb2.standin.options module):")
    for name, short in FLAGS.items():
        print(f"  {'-' + short + ', ' if short else ''}--{name}")
    print("  -m [ARG], --modules [ARG]")
    for name, (short, _) in VALUE_OPTIONS.items():
        print(f"  {'-' + short + ' ARG, ' if short else ''}--{name} ARG")


def _print_modules(name: str) -> int:
    from gb2.standin.modules import registry

    types = registry()
    if not name:
        for type_name, cls in sorted(types.items()):
            print(f"{type_name:<28} {cls.DESCRIPTION}")
        return 0
    if name not in types:
        print(f"[ERROR] Print module information: A module with the name '{name}' does not exist!")
        return 1
    cls = types[name]
    print(f"{name}: {cls.DESCRIPTION}")
    for param, spec in cls.PARAMS.items():
        print(f"  {param:<28} default={spec.default!r}  {spec.description}")
    return 0


def _int_option(opts: Options, name: str, minimum: int, fatal: str) -> int | None:
    text = opts.get(name)
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise OptionError(f"the argument ('{text}') for option '--{name}' is invalid") from None
    if value < minimum:
        B2FATAL(fatal)
    return value


def _configure(opts: Options) -> None:
    """Move command-line overrides into the run's environment (basf2's Environment)."""
    events = _int_option(
        opts, "events", 1, "Invalid number of events (valid range: 1..4294967294)!"
    )
    ENV.n_events_override = events or 0
    ENV.skip_events_override = _int_option(
        opts, "skip-events", 0, "Invalid number of events to skip!"
    )
    run = _int_option(opts, "run", 0, "run must be >= 0!")
    experiment = _int_option(opts, "experiment", 0, "experiment must be >= 0!")
    if run is not None or experiment is not None:
        if not events:
            B2FATAL("--experiment and --run must be used with --events/-n!")
        if run is None or experiment is None:
            B2FATAL("Both --experiment and --run must be specified!")
        ENV.run_experiment_override = (run, experiment)  # type: ignore[assignment]
    processes = _int_option(opts, "processes", 0, "Invalid number of processes!")
    if processes:
        B2INFO(f"-p {processes}: gb2's basf2 stand-in always runs in a single process")
    ENV.input_files_override = opts.all("input")
    ENV.output_file_override = opts.get("output")
    level = opts.get("log_level")
    if level is not None:
        if level.upper() not in _LEVELS:
            B2FATAL("Invalid log level! Needs to be one of DEBUG, INFO, RESULT, WARNING, or ERROR.")
        LOG.set_level(LogLevel[level.upper()], override=True)
    seed = opts.get("random-seed")
    if seed is not None:
        ENV.random_seed = seed
    ENV.dry_run = "dry-run" in opts.flags
    ENV.no_stats = "no-stats" in opts.flags
    for name in _NO_EFFECT:
        if opts.get(name) is not None:
            B2WARNING(f"option --{name} is accepted but has no effect in gb2's basf2 stand-in")
    for name in _NO_EFFECT_FLAGS:
        if name in opts.flags:
            B2WARNING(f"option --{name} is accepted but has no effect in gb2's basf2 stand-in")


def _print_traceback(exc: BaseException, steering: Path) -> None:
    """The traceback as Python would print it for the steering file (our runner frames dropped)."""
    tb = exc.__traceback__
    while tb is not None and Path(tb.tb_frame.f_code.co_filename).resolve() != steering:
        tb = tb.tb_next
    sys.stdout.flush()
    traceback.print_exception(
        type(exc), exc, tb if tb is not None else exc.__traceback__, file=sys.stderr
    )


def _run_steering(steering: Path, arguments: list[str]) -> int:
    """Execute the steering file as ``__main__``; return the exit status."""
    sys.argv = [str(steering), *arguments]
    sys.path[0:0] = [str(steering.parent), str(PYLIB)]
    try:
        runpy.run_path(str(steering), run_name="__main__")
    except Basf2Fatal:
        return 1
    except SystemExit as e:
        if e.code is None:
            return 0
        if isinstance(e.code, int):
            return e.code
        print(e.code, file=sys.stderr)
        return 1
    except BaseException as e:  # the steering file failed: report like Python does
        _print_traceback(e, steering)
        return 1
    return 0


def run(argv: list[str]) -> int:
    from gb2.standin.jobinfo import JOB_INFO

    opts = parse(argv)
    if "help" in opts.flags:
        _print_help()
        return 0
    if "version" in opts.flags or "version-short" in opts.flags:
        print(f"gb2 basf2 stand-in {STANDIN_VERSION} (not basf2)")
        return 0
    if "info" in opts.flags or "license" in opts.flags:
        print(BANNER)
        print(f"Python: {sys.executable} {sys.version.split()[0]}\nLibrary: {PYLIB}")
        return 0
    if opts.modules is not None:
        return _print_modules(opts.modules or opts.steering or "")
    job_info = opts.get("job-information")
    if job_info is not None:
        ENV.job_information = Path(job_info).absolute()
        JOB_INFO.write()
    code = 1
    try:
        _configure(opts)
        if job_info is not None:
            B2INFO(f"Job information file: {job_info}")
        if opts.steering is None:
            raise OptionError(
                "no steering file given (gb2's basf2 stand-in has no interactive mode)"
            )
        steering = Path(opts.steering).resolve()
        if not steering.is_file():
            B2FATAL(f"The given filename and/or path is not valid: {opts.steering}")
        B2INFO(f"Steering file: {opts.steering}")
        ENV.steering_file = str(steering)
        ENV.steering_text = steering.read_text(errors="replace")
        code = _run_steering(steering, opts.arguments)
        if ENV.dry_run:
            sys.stdout.write("".join(line + "\n" for line in ENV.dry_run_lines))
    except Basf2Fatal:
        code = 1
    finally:
        sys.stdout.flush()
        message = "finished successfully" if code == 0 else f"failed with exit status {code}"
        JOB_INFO.status(message, finished=True, exit_status=code)
    return code


def main(argv: list[str] | None = None) -> int:
    print(BANNER, file=sys.stderr, flush=True)
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except OptionError as e:
        sys.stdout.flush()
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        sys.stdout.flush()
