"""Why jobs ended where they did: gb2_project_analysis's Status → MinorStatus →
ApplicationStatus → Site tree, from one server-side summary call whatever the size."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gb2.client.diracx import DiracX
from gb2.jobs.status import Selection

LEVELS = ("Status", "MinorStatus", "ApplicationStatus", "Site")
JSON_KEYS = ("status", "minor_status", "application_status", "site")  # as in gb2_job_status --json


@dataclass
class Node:
    """One branch of the tree: a value at its level, the jobs under it, and its children."""

    value: str
    count: int = 0
    children: dict[str, Node] = field(default_factory=dict)

    def sorted_children(self) -> list[Node]:
        """Biggest first, then by name: the usual suspect comes first."""
        return sorted(self.children.values(), key=lambda n: (-n.count, n.value))

    def as_json(self, depth: int = 0) -> dict[str, Any]:
        out: dict[str, Any] = {JSON_KEYS[depth - 1] if depth else "selection": self.value, "count": self.count}
        if self.children:
            out["children"] = [c.as_json(depth + 1) for c in self.sorted_children()]
        return out


def analyse(dx: DiracX, selection: Selection) -> Node:
    """The tree of the selection's jobs, built from ``/api/jobs/summary`` grouped by the four levels."""
    root = Node("all")
    for row in dx.summary(list(LEVELS), selection.conditions()):
        count = int(row["count"])
        root.count += count
        node = root
        for level in LEVELS:
            value = str(row.get(level) or "Unknown")
            node = node.children.setdefault(value, Node(value))
            node.count += count
    return root


def render(root: Node) -> list[str]:
    """gbasf2's layout: ``Status (n)``, indented ``MinorStatus (n)``, ``ApplicationStatus (n)``, ``Site : n``."""
    lines: list[str] = []

    def walk(node: Node, depth: int) -> None:
        for child in node.sorted_children():
            indent = "    " * depth
            if depth == len(LEVELS) - 1:
                lines.append(f"{indent}{child.value} : {child.count}")
            else:
                lines.append(f"{indent}{child.value} ({child.count})")
                walk(child, depth + 1)

    walk(root, 0)
    return lines


def add_held_jobs(root: Node, views: dict[str, Any]) -> Node:
    """Jobs gb2 holds until their scouts pass (on a DiracX without scouting) join the tree where
    the server would show them: Scouting, or Failed naming the scout, never submitted."""
    from gb2.jobs.scouts import held_counts
    from gb2.jobs.states import SCOUTING, Minor, scout_failed

    for view in views.values():
        for status, count in held_counts(view).items():
            if status == SCOUTING:
                path = (SCOUTING, Minor.SCOUT_WAIT, "Held by gb2: not submitted yet", "None")
            else:
                scout = (view.failed_scout or {}).get("job_id", 0)
                path = (status, scout_failed(scout), "Held by gb2: never submitted", "None")
            root.count += count
            node = root
            for value in path:
                node = node.children.setdefault(value, Node(value))
                node.count += count
    return root
