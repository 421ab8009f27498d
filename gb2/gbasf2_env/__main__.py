"""``python -m gb2.gbasf2_env exports DIR PATH PYTHONPATH``: what ``setup.sh`` evaluates.

Exit 1 (printing nothing) unless this interpreter's gb2 is the one in DIR, so that
``setup.sh`` can try its candidate interpreters until it finds the right one.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gb2.gbasf2_env import HERE, exports


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] != "exports":
        print("usage: python -m gb2.gbasf2_env exports DIR PATH PYTHONPATH", file=sys.stderr)
        return 2
    if Path(argv[1]).resolve() != HERE:
        return 1
    sys.stdout.write(exports(argv[2], argv[3]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
