"""Create Rucio's schema, the default VO and the root account (run in the Rucio venv).

Equivalent to the wheel's ``rucio/tools/bootstrap.py``; needs ``RUCIO_CONFIG``.
"""

from rucio.db.sqla.util import build_database, create_base_vo, create_root_account

build_database()
create_base_vo()
create_root_account()
print("rucio bootstrap done")
