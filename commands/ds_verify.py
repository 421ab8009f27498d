"""gb2_ds_verify: check a downloaded tree against its manifest, offline."""

from __future__ import annotations

import click

from commands._options import CONTEXT, common, json_option


@click.command(
    "gb2_ds_verify",
    context_settings=CONTEXT,
    help="""Check a tree downloaded by gb2_ds_get against the manifest written beside
it (DIR/gb2_manifest.json, or one in each dataset folder below DIR), without
contacting the grid.

Every file the manifest records is hashed again and compared with its recorded
size and adler32. Reported: missing files (never downloaded, failed, or gone),
corrupt ones (changed since), superseded ones (older reschedule generations of
an output, which would count events twice) and extra ones (not in the
manifest). --prune_superseded deletes the superseded files.

Exit status 0 only if the tree is complete and verified (nothing missing or
corrupt); 1 otherwise; 5 if DIR holds no manifest.

\b
A gb2 tool (gbasf2 has none). --json:
  {"ok", "manifests", "verified", "bytes", "missing": [{"path", "lfn", "reason"}],
   "corrupt": [...], "superseded": [...], "extra", "pruned"}
""",
)
@click.argument("directory", type=click.Path(file_okay=False, exists=True), metavar="DIR")
@click.option("--prune_superseded", is_flag=True, help="Delete older reschedule generations found in the tree.")
@click.option("--parallel", type=click.IntRange(1, 64), default=4, show_default=True, help="[gb2] Files hashed at once.")
@json_option
@common
def cli(directory: str, prune_superseded: bool, parallel: int, as_json: bool, profile: str | None, debug: bool) -> int:
    from pathlib import Path

    from gb2.data.audit import audit
    from gb2.errors import ExitCode, NotFound
    from gb2.ui.output import human_bytes, print_json

    root = Path(directory)
    report = audit(root, prune_superseded=prune_superseded, parallel=parallel)
    if not report.manifests:
        raise NotFound(f"no gb2_manifest.json in {root} or its subfolders: download with gb2_ds_get first")
    if as_json:
        print_json(report.as_json())
        return ExitCode.OK if report.ok else ExitCode.FAILED
    print(f"Checked {', '.join(report.manifests)}: {len(report.verified)} files verified ({human_bytes(report.bytes)})")
    sections = (("Missing", report.missing), ("Corrupt", report.corrupt))
    for title, problems in sections:
        if problems:
            print(f"{title} ({len(problems)}):")
            for p in problems:
                print(f"  {p.path}: {p.reason}")
    if report.superseded:
        pruned = set(report.pruned)
        print(f"Superseded by a newer reschedule generation ({len(report.superseded)}):")
        for p in report.superseded:
            print(f"  {p.path}" + (" (removed)" if p.path in pruned else ""))
        if not pruned:
            print("  (they would count events twice: remove them with --prune_superseded)")
    if report.extra:
        print(f"Not in the manifest ({len(report.extra)}):")
        for path in report.extra:
            print(f"  {path}")
    if report.ok:
        print("verify: complete: every recorded file is present and verified")
        return ExitCode.OK
    print(f"verify: INCOMPLETE: {len(report.missing)} missing, {len(report.corrupt)} corrupt")
    return ExitCode.FAILED
