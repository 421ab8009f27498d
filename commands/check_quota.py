"""gb2_check_quota: your usage per storage element against your limits."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, json_option, se_option


@click.command(
    "gb2_check_quota",
    context_settings=CONTEXT,
    help="""Show how much of your quota you use on each storage element: the bytes and
files counted against your account, your limit and what remains, with a
warning from 90 % on.

Exit status 0, or 1 when a storage element is full (nothing more fits there).
The grid's catalogue updates usage every few minutes; the embedded grid at
once.

\b
--json  {"account", "storage_elements": [{"se", "used_bytes", "files",
         "limit_bytes", "unlimited", "remaining_bytes", "used_fraction",
         "warning"}], "warnings"}
""",
)
@se_option("Only this storage element.")
@json_option
@common
def cli(se: str | None, as_json: bool, profile: str | None, debug: bool) -> int:
    from gb2.data.quota import quotas
    from gb2.data.storage_elements import require_ses
    from gb2.errors import ExitCode
    from gb2.session import Session
    from gb2.ui.output import human_bytes, plain_table, print_json

    session = Session.open(profile)
    if se is not None:
        require_ses(session.rucio, {"--se": se})
    account = session.rucio.current_account()
    rows = quotas(session.rucio, account, se)
    warnings = [q.warning for q in rows if q.warning]
    if as_json:
        print_json({"account": account, "storage_elements": [q.as_json() for q in rows], "warnings": warnings})
    else:
        print(f"Quota of account {account}:")
        plain_table(("Storage element", "Used", "Files", "Limit", "Free", "Used %"), [
            (q.se, human_bytes(q.used_bytes), q.files,
             "unlimited" if q.unlimited else human_bytes(q.limit_bytes) if q.limit_bytes is not None else "none",
             human_bytes(q.remaining_bytes) if q.remaining_bytes is not None else "",
             f"{q.used_fraction * 100:.1f}" if q.used_fraction is not None else "")
            for q in rows])  # fmt: skip
        for warning in warnings:
            print(f"Warning: {warning}")
    return ExitCode.FAILED if any(q.full for q in rows) else ExitCode.OK
