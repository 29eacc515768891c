"""The month calendar: days on each activity's own local date, totals, provider badges, review
markers, selecting an activity, and month navigation with the keyboard."""

from datetime import UTC, date, datetime
from pathlib import Path

from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtWidgets import QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from tests.builders import gpx_bytes, write
from tests.fakes import add_activity, record
from tracekit.files.importer import FileImporter
from tracekit.paths import archive_dir_for
from tracekit.providers.names import ProviderName
from tracekit.store.engine import Database
from tracekit.units import UnitSystem
from ui.calendar_view import (
    WEEK_COLUMN,
    DateRole,
    EntriesRole,
    InMonthRole,
    WeekTotalsRole,
    qt_first_weekday,
    totals_text,
)

GARMIN, STRAVA, SHEET = ProviderName.GARMIN, ProviderName.STRAVA, ProviderName.SPREADSHEET


def _seed(db: Database, tmp_path: Path) -> None:
    """May 2026: a Tokyo evening run, a Tokyo run after midnight, a Girona ride on three
    providers (one flagged for review), a date-only log entry."""
    folder = tmp_path / "in"
    # 20:30 in Tokyo on 12 May (11:30 UTC): an evening run, on 12 May.
    write(
        folder / "tokyo-evening.gpx",
        gpx_bytes(datetime(2026, 5, 12, 11, 30, tzinfo=UTC), lat=35.68, lon=139.76),
    )
    # 00:30 in Tokyo on 1 June is still 31 May in UTC (15:30): it belongs to June.
    write(
        folder / "tokyo-late.gpx",
        gpx_bytes(datetime(2026, 5, 31, 15, 30, tzinfo=UTC), lat=35.68, lon=139.76),
    )
    report = FileImporter(db, archive_dir_for(db.url)).run([folder], workers=1)
    assert len(report.imported) == 2, report.as_json()
    with db.session() as session:
        ride = add_activity(
            session,
            record(
                GARMIN, "g1", name="Els Àngels", start_utc=datetime(2026, 5, 16, 7, 0, tzinfo=UTC)
            ),
            record(
                STRAVA,
                "s1",
                name="Morning Ride",
                start_utc=datetime(2026, 5, 16, 7, 0, 5, tzinfo=UTC),
            ),
            record(
                SHEET,
                "row-1",
                name=None,
                start_utc=None,
                date_only=True,
                start_local=datetime(2026, 5, 16),
            ),
        )
        ride.needs_review = True


def _entries_by_day(window: object) -> dict[date, list[object]]:
    model = window.calendar.model  # type: ignore[attr-defined]
    found: dict[date, list[object]] = {}
    for row in range(model.rowCount()):
        for col in range(7):
            index = model.index(row, col)
            entries = index.data(EntriesRole)
            if entries and index.data(InMonthRole):
                found[index.data(DateRole)] = list(entries)
    return found


def test_activities_sit_on_their_own_local_dates_with_badges_totals_and_review_marker(
    qtbot: QtBot, db: Database, tmp_path: Path, open_window: object
) -> None:
    _seed(db, tmp_path)
    window = open_window(db.url)  # type: ignore[operator]
    with qtbot.waitSignal(window.month_shown, timeout=10_000):
        window.go_month(2026, 5)
    days = _entries_by_day(window)
    assert sorted(days) == [date(2026, 5, 12), date(2026, 5, 16)]
    (evening,) = days[date(2026, 5, 12)]
    assert evening.start_local == datetime(2026, 5, 12, 20, 30)  # Tokyo wall clock
    assert evening.providers == ("file",)
    (ride,) = days[date(2026, 5, 16)]
    assert ride.providers == ("garmin", "spreadsheet", "strava")
    assert ride.needs_review
    tooltip = window.calendar.model.index_of_activity(ride.activity_id).data(
        Qt.ItemDataRole.ToolTipRole
    )
    assert "needs review" in tooltip and "Strava" in tooltip and "Training log" in tooltip
    # month and year totals
    assert window.calendar.month_totals.text().startswith("2 activities")
    assert "31.60 km" in window.calendar.month_totals.text()  # 1.6 km run + 30 km ride
    assert window.calendar.year_totals.text().startswith("2026: 3 activities")
    # the week column sums the week's days
    model = window.calendar.model
    weeks = [model.index(r, WEEK_COLUMN).data(WeekTotalsRole) for r in range(model.rowCount())]
    assert sum(w.count for w in weeks) == 2
    # the late Tokyo run is on 1 June, not on 31 May
    with qtbot.waitSignal(window.month_shown, timeout=10_000):
        window.go_month(2026, 6)
    assert list(_entries_by_day(window)) == [date(2026, 6, 1)]
    # every cell paints (badges, marker, dots in narrow cells) without error
    assert not window.grab().isNull()


def test_week_starts_on_the_locale_first_day_and_headers_follow(
    qtbot: QtBot, db: Database, open_window: object
) -> None:
    window = open_window(db.url)  # type: ignore[operator]
    window.go_month(2026, 3)
    qtbot.waitUntil(lambda: window.calendar.model.data_month is not None)
    model = window.calendar.model
    first = model.index(0, 0).data(DateRole)
    assert first.weekday() == qt_first_weekday()
    assert model.headerData(WEEK_COLUMN, Qt.Orientation.Horizontal) == "Week"


def test_clicking_an_activity_card_selects_it_and_shows_its_detail(
    qtbot: QtBot, db: Database, tmp_path: Path, open_window: object
) -> None:
    _seed(db, tmp_path)
    window = open_window(db.url)  # type: ignore[operator]
    window.resize(1400, 900)
    with qtbot.waitSignal(window.month_shown, timeout=10_000):
        window.go_month(2026, 5)
    view = window.calendar.view
    (ride,) = _entries_by_day(window)[date(2026, 5, 16)]
    index = window.calendar.model.index_of_activity(ride.activity_id)
    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    cards, hidden = view.calendar_delegate.card_rects(QRectF(view.visualRect(index)), 1, option)
    assert cards and not hidden
    with qtbot.waitSignal(window.detail_shown, timeout=10_000) as shown:
        qtbot.mouseClick(
            view.viewport(), Qt.MouseButton.LeftButton, pos=cards[0].center().toPoint()
        )
    detail = shown.args[0]
    assert detail.activity_id == ride.activity_id
    assert window.calendar.model.selected_activity == ride.activity_id
    assert window.detail.title.text() == "Els Àngels"
    providers = [r.provider for r in detail.records]
    assert providers == [SHEET, GARMIN, STRAVA]  # the user's priority order
    assert window.detail.values.columnCount() == 4
    # an empty part of a day selects nothing new
    blank = view.visualRect(window.calendar.model.index_of_date(date(2026, 5, 20))).center()
    assert view.activity_at(QPoint(blank).toPointF()) is None


def test_keyboard_switches_months_and_today(
    qtbot: QtBot, db: Database, open_window: object
) -> None:
    window = open_window(db.url)  # type: ignore[operator]
    with qtbot.waitSignal(window.month_shown, timeout=10_000):
        window.go_month(2025, 12)
    view = window.calendar.view
    view.setFocus()
    with qtbot.waitSignal(window.month_shown, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_PageDown)
    assert window.current == (2026, 1)
    assert window.calendar.title.text().endswith("2026")
    with qtbot.waitSignal(window.month_shown, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_PageUp)
    with qtbot.waitSignal(window.month_shown, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_PageUp)
    assert window.current == (2025, 11)
    with qtbot.waitSignal(window.month_shown, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    today = date.today()
    assert window.current == (today.year, today.month)
    assert window.calendar.model.data_month.month.month == today.month


def test_units_change_the_texts_not_the_data() -> None:
    from tracekit.calendar import Totals

    totals = Totals(count=3, distance_m=16093.44, elapsed_s=5400)
    assert totals_text(totals, UnitSystem.METRIC) == "3 activities · 16.09 km · 1h30"
    assert totals_text(totals, UnitSystem.IMPERIAL) == "3 activities · 10.00 mi · 1h30"
