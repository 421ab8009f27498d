"""May this account write at an LPN? Asked of the catalogue before anything is created.

In Rucio an account creates names only in the scopes it owns (or anywhere, as an
administrator). The scope of a Belle II path follows Rucio's ``belleii`` rule
(:meth:`gb2.client.rucio.RucioClient.did`: ``/belle/group/<area>/<g>/...`` is in
``group.<g>`` if that scope exists, else in ``group``). Checking it while planning
makes ``gbasf2 --dryrun`` tell the truth about an ``--output_ds`` the user may not
write, instead of the submission failing later.
"""

from __future__ import annotations

from gb2.client.rucio import RucioClient
from gb2.errors import Forbidden

#: Rucio's account attribute that lets an account act in every scope.
ADMIN_ATTRIBUTE = "admin"


def check_writable(rucio: RucioClient, lpn: str, user: str, what: str = "the output dataset") -> str:
    """The scope ``lpn`` will be created in; :class:`Forbidden` (exit 4) with what to do
    if the account may not write there. Two small requests (three for a group area)."""
    scope = rucio.did(lpn).scope
    account = rucio.current_account()
    owned = rucio.account_scopes(account)
    if scope in owned:
        return scope
    if str(rucio.account_attributes(account).get(ADMIN_ATTRIBUTE, "")).lower() in ("true", "1"):
        return scope
    yours = f" (yours: {', '.join(sorted(owned))})" if owned else ""
    raise Forbidden(f"you may not write {what} {lpn}: Rucio account {account} cannot create names in scope "
                    f"{scope!r}{yours}; write below /belle/user/{user}/ (the default without --output_ds), "
                    f"or ask the data managers for write access to {scope!r}")  # fmt: skip
