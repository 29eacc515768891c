"""`tracekit calendar [YYYY-MM] [--months N]`: month grids in the terminal, or JSON."""

import argparse
import calendar as stdlib_calendar
import json
from datetime import date

from rich.table import Table

from tracekit.calendar import MonthView, YearMonth, latest_month, month_view
from tracekit.cli.context import CliContext
from tracekit.units import format_distance, format_duration


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("calendar")
    parser.add_argument(
        "month",
        nargs="?",
        type=YearMonth.parse,
        metavar="YYYY-MM",
        help="the (last) month to show; default: the month of the newest activity",
    )
    parser.add_argument("--months", type=int, default=1, metavar="N", help="how many months")
    parser.add_argument("--json", action="store_true", help="print the months as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: CliContext) -> int:
    with context.db.session() as session:
        last = args.month or latest_month(session) or YearMonth.of(date.today())
        months = [last.shifted(-i) for i in reversed(range(max(args.months, 1)))]
        views = [month_view(session, month) for month in months]
    if args.json:
        context.console.print_json(json.dumps({str(v.month): v.as_json() for v in views}))
    else:
        for view in views:
            context.console.print(_grid(view))
    return 0


def _grid(view: MonthView) -> Table:
    month = view.month
    title = (
        f"{stdlib_calendar.month_name[month.month]} {month.year} — {view.totals.count} activities, "
        f"{format_distance(view.totals.distance_m)}, {format_duration(view.totals.elapsed_s)}"
    )
    table = Table(*stdlib_calendar.day_abbr, title=title, show_lines=True, expand=True)
    for week in stdlib_calendar.Calendar().monthdatescalendar(month.year, month.month):
        cells = []
        for day in week:
            if day.month != month.month:
                cells.append("")
                continue
            lines = [f"[bold]{day.day}[/]"]
            for entry in view.days.get(day, []):
                time = f"{entry.start_local:%H:%M} " if entry.start_local else ""
                lines.append(f"{time}{entry.sport} {format_distance(entry.distance_m)}")
            cells.append("\n".join(lines))
        table.add_row(*cells)
    return table
