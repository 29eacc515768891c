"""`tracekit review [YYYY-MM | --from DATE --to DATE]`: records side by side, and the changes."""

import argparse
import json
from datetime import date

from rich.table import Table

from tracekit.calendar import YearMonth, latest_month
from tracekit.cli.context import CliContext
from tracekit.review import ReviewEntry, build_review
from tracekit.units import format_distance, format_duration


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "review",
        description="Nothing is written: this only shows what `tracekit apply` could do.",
    )
    parser.add_argument("month", nargs="?", type=YearMonth.parse, metavar="YYYY-MM")
    parser.add_argument("--from", dest="start", type=date.fromisoformat, metavar="DATE")
    parser.add_argument("--to", dest="end", type=date.fromisoformat, metavar="DATE")
    parser.add_argument("--all", action="store_true", help="also sessions with nothing to do")
    parser.add_argument(
        "--dismissed", action="store_true", help="also list the changes you dismissed"
    )
    parser.add_argument("--json", action="store_true", help="print the review as JSON")
    parser.set_defaults(handler=run)


def review_range(args: argparse.Namespace, context: CliContext) -> tuple[date, date]:
    if args.start or args.end:
        if not (args.start and args.end):
            raise SystemExit("--from and --to go together")
        return args.start, args.end
    with context.db.session() as session:
        month = args.month or latest_month(session) or YearMonth.of(date.today())
    return month.first_day, month.last_day


def run(args: argparse.Namespace, context: CliContext) -> int:
    start, end = review_range(args, context)
    settings, capabilities = context.settings, context.capabilities()
    with context.db.session() as session:
        entries = build_review(session, start, end, settings, capabilities)
    if args.json:
        payload = {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "activities": [e.as_json() for e in entries],
        }
        context.console.print_json(json.dumps(payload))
        return 0
    shown = [
        e for e in entries if args.all or e.changes or e.flags or (args.dismissed and e.dismissed)
    ]
    for entry in shown:
        context.console.print(entry_table(entry, with_dismissed=args.dismissed))
    changes = sum(len(e.changes) for e in entries)
    context.console.print(
        f"{start} – {end}: {len(entries)} sessions, {changes} proposed changes"
        + _dismissed_note(sum(len(e.dismissed) for e in entries), args.dismissed)
        + ("" if capabilities else " (no provider connected: only local links are proposed)"),
        highlight=False,
    )
    return 0


def _dismissed_note(count: int, listed: bool) -> str:
    """How many changes are left out because the user dismissed them, and how to get one back."""
    if not count:
        return ""
    changes = f"{count} dismissed change{'s' if count != 1 else ''}"
    if listed:
        return f", {changes} (`tracekit dismiss --restore ID` proposes one again)"
    return f", {changes} hidden (`--dismissed` lists them)"


def entry_table(entry: ReviewEntry, with_dismissed: bool = False) -> Table:
    table = Table(
        "Record",
        "Provider",
        "Name",
        "Start",
        "Distance",
        "Time",
        "Gear",
        "Linked because",
        title=f"{entry.local_date}  {entry.name or '(no name)'}  [{entry.sport}]  "
        f"activity {entry.activity_id}",
        title_justify="left",
    )
    for r in entry.records:
        start = r.start_local.strftime("%H:%M") if r.start_local and not r.date_only else "—"
        table.add_row(
            str(r.record_id),
            r.provider.label,
            r.name or "",
            start,
            format_distance(r.distance_m),
            format_duration(r.elapsed_s),
            r.gear or "",
            r.link or "",
        )
    for change in entry.changes:
        old = change.old_value if change.old_value is not None else "—"
        table.add_row(
            f"[bold]{change.id}[/]",
            change.provider.label,
            f"{change.kind.value}: {old} → [green]{change.new_value or ''}[/]",
            "",
            "",
            "",
            "",
            change.reason,
        )
    for change in entry.dismissed if with_dismissed else ():
        old = change.old_value if change.old_value is not None else "—"
        table.add_row(
            f"[dim]{change.id}[/]",
            change.provider.label,
            f"[dim]dismissed {change.kind.value}: {old} → {change.new_value or ''}[/]",
            "",
            "",
            "",
            "",
            change.reason,
        )
    for flag in entry.flags:
        table.add_row("[yellow]review[/]", "", flag, "", "", "", "", "")
    return table
