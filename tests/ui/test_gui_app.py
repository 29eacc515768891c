"""Starting the app: self-test, `tracekit gui` command line, one window per database, the
empty state, the demo on first use, remembered window state, settings, stats, unlink."""

import argparse
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from tests.fakes import add_activity, record
from tracekit.cli import gui_cmd
from tracekit.cli.context import CliContext
from tracekit.paths import demo_db_path, sqlite_url
from tracekit.providers.names import ProviderName
from tracekit.settings import Settings, load_settings
from tracekit.sports import Sport
from tracekit.store.engine import Database
from tracekit.units import UnitSystem
from ui.app import build_parser, target_for
from ui.backend import open_store
from ui.connect_dialog import ConnectDialog
from ui.settings_dialog import SettingsDialog
from ui.single_instance import SingleInstance, server_name

GARMIN, STRAVA = ProviderName.GARMIN, ProviderName.STRAVA


class _Ctx:
    def progress(self, done: int, total: int, text: str = "") -> None:
        pass

    def cancelled(self) -> bool:
        return False


def test_self_test_passes_and_says_what_it_checked(tmp_path: Path) -> None:
    env = {**os.environ, "TRACEKIT_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(
        [sys.executable, "-m", "ui", "--self-test"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "Self-test passed."
    assert sum(line.startswith("ok ") for line in lines) == 5
    assert any("local (Tokyo) date" in line for line in lines)


def test_tracekit_gui_runs_the_window_on_the_resolved_database(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    gui_cmd.register(parser.add_subparsers())
    context = CliContext(db_path=tmp_path / "mine.sqlite3")
    args = parser.parse_args(["gui"])
    assert gui_cmd.command(args, context) == [
        sys.executable,
        "-m",
        "ui",
        "--url",
        sqlite_url(tmp_path / "mine.sqlite3"),
    ]
    demo = parser.parse_args(["gui", "--demo"])
    assert gui_cmd.command(demo, CliContext(db_path=None)) == [sys.executable, "-m", "ui", "--demo"]
    assert gui_cmd.command(parser.parse_args(["gui", "--self-test"]), context)[-1] == "--self-test"
    # the window's own parser resolves the same database
    url, archive, is_demo = target_for(build_parser().parse_args(["--url", context.url]))
    assert (url, archive, is_demo) == (context.url, context.archive_dir, False)
    url, _archive, is_demo = target_for(build_parser().parse_args(["--demo"]))
    assert url == sqlite_url(demo_db_path()) and is_demo


def test_a_second_launch_on_the_same_database_reaches_the_first(qtbot: QtBot) -> None:
    first = SingleInstance("sqlite:////tmp/one.sqlite3")
    assert first.listen()
    other_db = SingleInstance("sqlite:////tmp/two.sqlite3")
    assert not other_db.notify_running(100)
    with qtbot.waitSignal(first.activated, timeout=5_000):
        assert SingleInstance("sqlite:////tmp/one.sqlite3").notify_running()
    first.close()
    assert server_name("a") != server_name("b")


def test_an_empty_database_welcomes_and_offers_import_connect_demo(
    qtbot: QtBot, db: Database, open_window: object
) -> None:
    window = open_window(db.url)  # type: ignore[operator]
    assert window.pages.currentWidget() is window.empty
    texts = [
        b.text()
        for b in (window.empty.import_button, window.empty.connect_button, window.empty.demo_button)
    ]
    assert texts == ["Import files…", "Connect a provider…", "Open the demo"]
    assert window.empty.location.text().endswith("tracekit.sqlite3")
    assert window.acceptDrops()


def test_the_demo_is_created_on_first_use_only(tmp_path: Path) -> None:
    path = tmp_path / "demo" / "tracekit-demo.sqlite3"
    url = sqlite_url(path)
    first = open_store(url, tmp_path / "demo" / "archive", _Ctx(), demo=True, demo_months=1)
    try:
        assert first.created_demo and not first.empty and path.exists()
        assert not path.with_name(path.name + ".partial").exists()
    finally:
        first.db.dispose()
    again = open_store(url, tmp_path / "demo" / "archive", _Ctx(), demo=True, demo_months=1)
    again.db.dispose()
    assert not again.created_demo


def test_window_geometry_month_and_splitters_are_remembered(
    qtbot: QtBot, db: Database, open_window: object, ui_state: QSettings
) -> None:
    with db.session() as session:
        add_activity(
            session, record(GARMIN, "g1", start_utc=datetime(2026, 3, 8, 7, 0, tzinfo=UTC))
        )
    window = open_window(db.url)  # type: ignore[operator]
    assert window.current == (2026, 3)  # the newest month with data on first start
    with qtbot.waitSignal(window.month_shown, timeout=10_000):
        window.go_month(2025, 11)
    window.resize(1111, 777)
    window.splitter.setSizes([150, 700, 261])
    sizes = window.splitter.sizes()
    geometry = window.saveGeometry()
    window.shutdown()
    assert ui_state.value("window/geometry") == geometry
    again = open_window(db.url)  # type: ignore[operator]
    assert again.current == (2025, 11)
    # the offscreen screen is small, so Qt fits the restored window onto it; the side panes keep
    # their widths and the calendar takes what is left
    assert again.splitter.sizes()[0] == sizes[0] and again.splitter.sizes()[2] == sizes[2]


def test_settings_dialog_edits_and_the_window_saves_them(
    qtbot: QtBot, db: Database, open_window: object, tmp_path: Path
) -> None:
    dialog = SettingsDialog(Settings(), tmp_path, "db")
    qtbot.addWidget(dialog)
    assert not any(box.isChecked() for box in dialog.auto_approve.values())  # off by default
    dialog.units.setCurrentIndex(dialog.units.findData("imperial"))
    dialog.home_zone.setCurrentText("Asia/Tokyo")
    dialog.interval.setValue(15)
    dialog.priority.setCurrentRow(0)
    dialog._move(1)  # the training log below RideWithGPS
    dialog.priority.item(0).setCheckState(Qt.CheckState.Checked)  # RideWithGPS write-only
    chosen = dialog.result_settings()
    assert chosen.units is UnitSystem.IMPERIAL
    assert chosen.home_timezone == "Asia/Tokyo" and chosen.sync_interval_minutes == 15
    assert chosen.provider_priority[:2] == (ProviderName.RIDEWITHGPS, ProviderName.SPREADSHEET)
    assert chosen.write_only == {ProviderName.RIDEWITHGPS, STRAVA}
    dialog.home_zone.setCurrentText("Mars/Olympus")
    dialog._accept()
    assert "Unknown time zone" in dialog.zone_error.text() and not dialog.result()
    window = open_window(db.url)  # type: ignore[operator]
    opened = window.open_settings()
    assert opened is not None and opened.isVisible()
    opened.interval.setValue(45)
    with qtbot.waitSignal(window.settings_saved, timeout=10_000):
        qtbot.keyClick(opened, Qt.Key.Key_Return)  # Save
    assert window.settings.sync_interval_minutes == 45
    with qtbot.waitSignal(window.settings_saved, timeout=10_000):
        window.save_settings(chosen)
    with db.session() as session:
        assert load_settings(session) == chosen
    assert (
        window.units is UnitSystem.IMPERIAL and window.calendar.model.units is UnitSystem.IMPERIAL
    )


def test_stats_tab_loads_and_the_gear_gap_is_one_click_away(
    qtbot: QtBot, db: Database, open_window: object
) -> None:
    with db.session() as session:
        run = add_activity(
            session,
            record(GARMIN, "g1", sport=Sport.RUN, start_utc=datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        )
        run_id = run.id
    window = open_window(db.url)  # type: ignore[operator]
    window.tabs.setCurrentWidget(window.stats_view)
    qtbot.waitUntil(lambda: window.stats_view.data is not None)
    view = window.stats_view
    assert view.data.year == 2026 and view.data.periods.total.count == 1
    assert len(view.chart.bars) == 12
    assert "1 cycling/running activity has no gear" in view.missing_button.text()
    view.missing_button.click()
    assert view.missing.isVisible() and view.missing.count() == 1
    with qtbot.waitSignal(window.detail_shown, timeout=10_000) as shown:
        view.missing.itemActivated.emit(view.missing.item(0))
    assert shown.args[0].activity_id == run_id
    assert window.tabs.currentWidget() is window.calendar and window.current == (2026, 3)
    view.period.setCurrentIndex(view.period.findData("week"))
    qtbot.waitUntil(lambda: view.data.periods.period.value == "week")
    assert len(view.chart.bars) == len(view.data.periods.buckets) >= 52


def test_unlinking_a_record_from_the_detail_pane(
    qtbot: QtBot, db: Database, open_window: object
) -> None:
    start = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    with db.session() as session:
        ride = add_activity(
            session, record(GARMIN, "g1", start_utc=start), record(STRAVA, "s1", start_utc=start)
        )
        ride_id = ride.id
        strava_id = next(r.id for r in ride.records if r.provider is STRAVA)
    window = open_window(db.url)  # type: ignore[operator]
    with qtbot.waitSignal(window.detail_shown, timeout=10_000):
        window.show_activity(ride_id, date(2026, 3, 8))
    assert len(window.detail.detail.records) == 2
    assert window.detail.findChild(
        type(window.detail.link_button), f"unlink-{strava_id}"
    ).isEnabled()
    with qtbot.waitSignal(window.detail_shown, timeout=20_000) as shown:
        window.unlink_record(strava_id, confirm=False)
    assert [r.provider for r in shown.args[0].records] == [GARMIN]
    qtbot.waitUntil(
        lambda: sum(len(v) for v in window.calendar.model.data_month.view.days.values()) == 2
    )


def test_an_unconnected_provider_offers_to_connect_and_sync_waits_for_one(
    qtbot: QtBot, db: Database, open_window: object
) -> None:
    window = open_window(db.url)  # type: ignore[operator]
    qtbot.waitUntil(lambda: window.last_overview is not None)
    garmin = window.providers_panel.rows[GARMIN]
    assert (garmin.action_button.text(), garmin.action_button.isEnabled()) == ("Connect…", True)
    assert garmin.action_button.toolTip() == "Connect your Garmin Connect account"
    assert not window.sync_action.isEnabled()
    assert window.sync_action.toolTip() == "Connect a provider in Settings first"
    garmin.action_button.click()
    assert window.findChild(ConnectDialog) is not None  # Garmin's sign-in, from the panel


def test_settings_offer_to_connect_or_disconnect_each_provider_by_its_state(
    qtbot: QtBot, tmp_path: Path
) -> None:
    icu = ProviderName.INTERVALSICU
    dialog = SettingsDialog(Settings(), tmp_path, "db", connected=frozenset({GARMIN}))
    qtbot.addWidget(dialog)
    buttons = dialog.connect_buttons
    assert set(buttons) == set(ProviderName) - {ProviderName.FILE}
    assert [buttons[p].text() for p in (icu, GARMIN)] == ["Connect…", "Disconnect…"]
    strava_connected = SettingsDialog(Settings(), tmp_path, "db", connected=frozenset({STRAVA}))
    qtbot.addWidget(strava_connected)
    assert "Strava's go" in strava_connected.connect_buttons[STRAVA].toolTip()
    with qtbot.waitSignal(dialog.connect_requested) as connect:
        buttons[icu].click()
    assert connect.args == [icu]
    with qtbot.waitSignal(dialog.disconnect_requested) as disconnect:
        buttons[GARMIN].click()
    assert disconnect.args == [GARMIN]
    dialog.set_connected(GARMIN, False)
    with qtbot.waitSignal(dialog.connect_requested) as connect:
        buttons[GARMIN].click()
    assert connect.args == [GARMIN]


def test_sync_now_pulls_through_tracekit_sync_and_the_calendar_shows_it(
    qtbot: QtBot, db: Database, open_window: object
) -> None:
    from tests.fakes import MemoryProvider, remote
    from tracekit.providers.base import Capability
    from ui.backend import Connections

    garmin = MemoryProvider(GARMIN, {Capability.READ, Capability.RENAME})
    new_ride = record(
        GARMIN, "g-77", name="Pulled ride", start_utc=datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    )
    garmin.activities["g-77"] = remote(new_ride)
    with db.session() as session:  # something already there, so the calendar is shown
        add_activity(
            session, record(GARMIN, "g-1", start_utc=datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
        )
    window = open_window(db.url, connections=lambda _db: Connections({GARMIN: garmin}))  # type: ignore[operator]
    assert window.sync_available
    progress: list[str] = []
    with qtbot.waitSignal(window.sync_finished, timeout=30_000) as synced:
        handle = window.sync_now(None)
        assert handle is not None
        handle.progress.connect(lambda _d, _t, text: progress.append(text))
    (line,) = synced.args[0].lines
    assert (line.provider, line.new, line.stopped) == (GARMIN, 1, None)
    assert synced.args[0].proposals is not None
    assert any(text.startswith("Garmin Connect: ") for text in progress)
    qtbot.waitUntil(
        lambda: any(
            e.name == "Pulled ride"
            for entries in window.calendar.model.data_month.view.days.values()
            for e in entries
        ),
        timeout=10_000,
    )
    assert not any(row.progress.isVisible() for row in window.providers_panel.rows.values())
