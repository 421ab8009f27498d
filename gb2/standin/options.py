"""basf2's command-line options, parsed the way basf2's (boost) parser treats them.

Options may appear anywhere; ``--name value``, ``--name=value``, ``-n 10`` and
``-n10`` all work; the first free argument is the steering file and the rest
(plus everything after ``--``) is passed to it in ``sys.argv``. Unknown options
and missing values are errors (basf2 prints ``error: ...`` and exits with 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Options taking a value: canonical name -> (short alias, may repeat).
VALUE_OPTIONS: dict[str, tuple[str | None, bool]] = {
    "log_level": ("l", False),
    "package_log_level": (None, True),
    "module_log_level": (None, True),
    "random-seed": (None, False),
    "debug_level": ("d", False),
    "events": ("n", False),
    "run": (None, False),
    "experiment": (None, False),
    "skip-events": (None, False),
    "input": ("i", True),
    "sequence": ("S", True),
    "output": ("o", False),
    "processes": ("p", False),
    "module-io": (None, False),
    "dump-path": (None, False),
    "execute-path": (None, False),
    "job-information": (None, False),
    "realm": (None, False),
    "secondary-input": (None, True),
    "profile": (None, False),
}
#: Options without a value.
FLAGS: dict[str, str | None] = {
    "help": "h",
    "version": "v",
    "version-short": None,
    "info": None,
    "license": None,
    "visualize-dataflow": None,
    "no-stats": None,
    "dry-run": None,
    "zmq": None,
}
#: ``-m/--modules`` takes an optional value (basf2's implicit value).
MODULES_OPTION = ("modules", "m")

_SHORT = {short: name for name, (short, _) in VALUE_OPTIONS.items() if short}
_SHORT.update({short: name for name, short in FLAGS.items() if short})


class OptionError(Exception):
    """A command line basf2 would refuse."""


@dataclass
class Options:
    values: dict[str, list[str]] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    modules: str | None = None
    steering: str | None = None
    arguments: list[str] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        found = self.values.get(name)
        return found[-1] if found else None

    def all(self, name: str) -> list[str]:
        return list(self.values.get(name, []))


def _canonical(token: str) -> tuple[str, str | None]:
    """Option name and inline value of ``--name[=value]`` or ``-x[value]``."""
    if token.startswith("--"):
        name, eq, value = token[2:].partition("=")
        return name, value if eq else None
    short, rest = token[1:2], token[2:]
    if short == MODULES_OPTION[1]:
        return MODULES_OPTION[0], rest or None
    if short not in _SHORT:
        raise OptionError(f"unrecognised option '{token}'")
    return _SHORT[short], rest or None


def parse(argv: list[str]) -> Options:
    opts = Options()
    positional: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if token == "--":
            positional.extend(argv[i:])
            break
        if not token.startswith("-") or token == "-":
            positional.append(token)
            continue
        name, inline = _canonical(token)
        if name == MODULES_OPTION[0]:
            opts.modules = inline or ""
            continue
        if name in FLAGS:
            if inline is not None:
                raise OptionError(f"option '--{name}' does not take any arguments")
            opts.flags.add(name)
            continue
        if name not in VALUE_OPTIONS:
            raise OptionError(f"unrecognised option '{token}'")
        if inline is None:
            if i >= len(argv):
                raise OptionError(f"the required argument for option '--{name}' is missing")
            inline = argv[i]
            i += 1
        repeatable = VALUE_OPTIONS[name][1]
        if not repeatable and name in opts.values:
            raise OptionError(f"option '--{name}' cannot be specified more than once")
        opts.values.setdefault(name, []).append(inline)
    if positional:
        opts.steering, opts.arguments = positional[0], positional[1:]
    return opts
