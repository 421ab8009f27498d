"""``python -m gb2.standin``: the basf2 stand-in's command line."""

import sys

from gb2.standin.cli import main

sys.exit(main())
