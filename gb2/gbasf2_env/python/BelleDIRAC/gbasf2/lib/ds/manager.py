"""``BelleDIRAC.gbasf2.lib.ds.manager`` (gb2 stand-in): finding files in the catalogue."""

from __future__ import annotations

from typing import Any

from gb2.gbasf2_env.api import lfns


class Manager:
    """Dataset lookups through gb2's Rucio client."""

    def getLfns(self, dataType: Any = None, dataset: str = "", user: str | None = None,  # noqa: N802, N803
                **kwargs: Any) -> dict[str, Any]:  # fmt: skip
        """``{"OK", "Value": [LFN, ...]}``: the files of a project name or LPN, or those
        matching an absolute glob (every reschedule generation); ``[]`` when none match."""
        return lfns(dataset, user=user)
