"""gb2_se_list: the storage elements, their kind, site and usage."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, json_option


@click.command(
    "gb2_se_list",
    context_settings=CONTEXT,
    help="""List the storage elements (SEs) of the grid.

One line per SE: name, kind (DATA: official production; TMP: where user
outputs and replicas may go), site, city, used space and number of files.
Give an SE name to gb2_ds_get --se to download from that SE.

\b
gb2 additions:
  EXPRESSION  a Rucio RSE expression to filter with, e.g. 'type=TMP' (one
              that matches nothing says so and exits 0)
  --json      {"storage_elements": [{"name", "kind", "site", "city",
              "writable", "used_bytes", "files", "for_user_data"}]}
""",
)
@click.argument("expression", required=False)
@json_option
@common
def cli(expression: str | None, as_json: bool, profile: str | None, debug: bool) -> int:
    from gb2.data.storage_elements import storage_elements
    from gb2.session import Session
    from gb2.ui.output import human_bytes, plain_table, print_json

    ses = storage_elements(Session.open(profile).rucio, expression)
    if as_json:
        print_json({"storage_elements": [se.as_json() for se in ses]})
        return 0
    if not ses:
        print(f"No storage element matches {expression}")
        return 0
    rows = [(se.name, se.kind or "-", se.site or "-", se.city or "-",
             human_bytes(se.used_bytes) if se.used_bytes is not None else "-",
             se.files if se.files is not None else "-") for se in ses]  # fmt: skip
    plain_table(("SE", "Kind", "Site", "City", "Used", "Files"), rows)
    return 0
