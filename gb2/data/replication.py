"""Replicating datasets to another storage element: gb2_ds_rep and gb2_ds_rep_status.

A replication is a Rucio rule per datablock (``copies=1`` at the destination SE,
optionally reading from a source SE); Rucio's transfer daemons make the copies
and the rule's lock counters say how far they got. Users may replicate only to
``TMP`` storage elements; ``DATA`` ones are for official production. Asking again
for a replication that exists is not an error: the existing rule is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gb2.client.rucio import RucioClient
from gb2.data.datasets import did_type, targets
from gb2.data.storage_elements import require_ses, se_kind
from gb2.errors import BadInput


@dataclass
class RuleStatus:
    datablock: str
    rule_id: str
    rse_expression: str
    state: str
    ok: int
    replicating: int
    stuck: int

    def as_json(self) -> dict[str, Any]:
        return {"datablock": self.datablock, "rule_id": self.rule_id, "se": self.rse_expression, "state": self.state,
                "ok": self.ok, "replicating": self.replicating, "stuck": self.stuck}  # fmt: skip


def datablocks(rucio: RucioClient, arg: str, user: str) -> list[str]:
    """The datablocks (Rucio datasets) an argument names: a project or dataset's, or itself."""
    blocks: list[str] = []
    for lpn in targets(rucio, arg, user):
        kind = did_type(rucio, lpn)
        if kind == "DATASET":
            blocks.append(lpn)
        elif kind == "CONTAINER":
            did = rucio.did(lpn)
            blocks += [c["name"] for c in rucio.list_content(did.scope, did.name) if c.get("type") == "DATASET"]
        else:
            raise BadInput(f"{lpn} is a file: replicate its datablock instead")
    return sorted(set(blocks))


def check_ses(rucio: RucioClient, dest: str, source: str | None = None) -> None:
    """Both SEs exist, and the destination takes user data."""
    require_ses(rucio, {"-d/--destination": dest, "-s/--source": source})
    se = dest
    kind = se_kind(se, rucio.rse_attributes(se)) or "unclassified"
    if kind != "TMP":
        raise BadInput(f"{se} is a {kind} storage element: user data may be replicated only to TMP ones (gb2_se_list)")


def replicate(rucio: RucioClient, blocks: list[str], dest: str, source: str | None = None) -> dict[str, str]:
    """One rule per datablock (an existing identical rule is reused); datablock -> rule id."""
    made: dict[str, str] = {}
    for block in blocks:
        did = rucio.did(block)
        (rule_id,) = rucio.add_rule([(did.scope, did.name)], 1, dest, source_replica_expression=source,
                                    comment="gb2_ds_rep", exist_ok=True)  # fmt: skip
        made[block] = rule_id
    return made


def rule_statuses(rucio: RucioClient, blocks: list[str]) -> list[RuleStatus]:
    rows = []
    for block in blocks:
        did = rucio.did(block)
        for rule in rucio.list_rules(did.scope, did.name):
            rows.append(RuleStatus(block, rule["id"], rule["rse_expression"], rule["state"],
                                   int(rule.get("locks_ok_cnt") or 0), int(rule.get("locks_replicating_cnt") or 0),
                                   int(rule.get("locks_stuck_cnt") or 0)))  # fmt: skip
    return rows
