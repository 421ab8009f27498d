"""gb2_check_release: the basf2 releases the grid offers, and whether one is among them."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, json_option


@click.command(
    "gb2_check_release",
    context_settings=CONTEXT,
    help="""List the basf2 releases available on the grid, or check one.

Without RELEASE: one release per line (full releases, then light ones). With
RELEASE: says whether the grid offers it (exit 0) or not (exit 5, with the
closest names). gbasf2 -s checks against the same list.

The list is what the servers publish: the embedded grid's own list, or on a
real grid the list in the configuration DiracX serves (/api/config/,
Operations/<vo>/SoftwareReleases/basf2). A stock DiracX 0.7 publishes none:
then this command says so (exit 5) and gbasf2 -s checks only the name's form.

\b
gb2 addition: --json  {"source", "published", "releases", "release",
  "available", "closest"} (the last three with RELEASE)
""",
)
@click.argument("release", required=False)
@json_option
@common
def cli(release: str | None, as_json: bool, profile: str | None, debug: bool) -> int:
    from gb2.jobs import releases
    from gb2.session import Session
    from gb2.ui.output import print_json

    if release is not None:
        releases.check_name(release)
    offered = releases.published(Session.open(profile))
    if release is None:
        if as_json:
            print_json(offered.as_json())
        releases.require_published(offered)
        if not as_json:
            print(f"basf2 releases available on the grid ({len(offered.names or [])}, from {offered.source}):")
            for name in offered.names or []:
                print(f"  {name}")
        return 0
    available = offered.published and release in (offered.names or [])
    if as_json:
        print_json({**offered.as_json(), "release": release, "available": available,
                    "closest": [] if available else offered.closest(release)})  # fmt: skip
    releases.require(offered, release)
    if not as_json:
        print(f"{release} is available on the grid")
    return 0
