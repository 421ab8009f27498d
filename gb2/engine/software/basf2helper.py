#!/usr/bin/env python3
"""basf2helper.py as a site's software area provides it: here it is gb2's own job helper."""

from gb2.engine.basf2helper import main

raise SystemExit(main())
