"""The tray as a user meets it: the icon docked in a real tray host, its tooltip and menu under
the X pointer, closing to the tray, and quitting from it.

The pointer is moved and clicked with xdotool, so every click goes through the X server and
the tray host to the docked icon, as a user's would. What is asserted is what is on the screen:
the icon's pixels in the tray, the windows shown, the tooltip and message texts.
"""

import subprocess

from PySide6.QtCore import QPoint, QRect, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QLabel, QMenu, QSystemTrayIcon, QToolTip
from pytestqt.qtbot import QtBot

from ui.main_window import MainWindow
from ui.tray import tray_available

MENU = ["Open Tracekit", "Sync now", "Pause background sync", "Quit"]
HINT = "Tracekit keeps running"
QUIT_TIMEOUT_MS = 30_000
TIMED_OUT = 99


def xdotool(*args: object) -> None:
    subprocess.run(["xdotool", *map(str, args)], check=True, timeout=10)


def click(point: QPoint, button: int) -> None:
    xdotool("mousemove", point.x(), point.y(), "click", button)


def drawn_at(area: QRect) -> bool:
    """Whether the screen shows a picture there (the icon has many colours, a bare tray few)."""
    if area.isEmpty():
        return False
    shot = QApplication.primaryScreen().grabWindow(
        0, area.x(), area.y(), area.width(), area.height()
    )
    image = shot.toImage()
    colours = {image.pixel(x, y) for x in range(image.width()) for y in range(image.height())}
    return len(colours) > 8


def messages_on_screen(window: MainWindow) -> list[str]:
    """The texts of every other window shown: the tray's message balloons."""
    return [
        label.text()
        for shown in QApplication.topLevelWidgets()
        if shown.isVisible() and shown is not window
        for label in shown.findChildren(QLabel)
    ]


def tray_icon(window: MainWindow) -> QSystemTrayIcon:
    assert window.tray is not None, "the window found no tray"
    return window.tray.icon


def hover_tooltip(qtbot: QtBot, icon: QSystemTrayIcon) -> str:
    """The tooltip a user sees after resting the pointer on the icon.

    The pointer rests off the centre, where the clicks land: right after a menu closes Qt may
    miss the pointer leaving, and a move back to the point it last saw is no move to Qt, so
    no tooltip would come (a hand never lands on the very same pixel).
    """
    screen = QApplication.primaryScreen().geometry().center()
    xdotool("mousemove", screen.x(), screen.y())
    qtbot.waitUntil(lambda: not QToolTip.isVisible())
    rest = icon.geometry().center() + QPoint(2, 2)
    xdotool("mousemove", rest.x(), rest.y())
    qtbot.waitUntil(QToolTip.isVisible)
    return QToolTip.text()


def open_menu(qtbot: QtBot, icon: QSystemTrayIcon) -> QMenu:
    """Right-click the icon and wait until its menu is on the screen."""
    click(icon.geometry().center(), 3)
    menu = icon.contextMenu()
    qtbot.waitUntil(lambda: menu.isVisible() and menu.windowHandle().isExposed())
    return menu


def entry(menu: QMenu, text: str) -> QAction:
    (action,) = (a for a in menu.actions() if a.text() == text)
    return action


def press(menu: QMenu, text: str) -> None:
    click(menu.mapToGlobal(menu.actionGeometry(entry(menu, text)).center()), 1)


def choose(qtbot: QtBot, menu: QMenu, text: str) -> None:
    press(menu, text)
    qtbot.waitUntil(lambda: not menu.isVisible())


def close_menu(qtbot: QtBot, menu: QMenu) -> None:
    xdotool("key", "Escape")
    qtbot.waitUntil(lambda: not menu.isVisible())


def run_until_quit(app: QApplication) -> int:
    """Run the app's event loop, as `ui.app.run_gui` does: its exit code, or TIMED_OUT."""
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(lambda: app.exit(TIMED_OUT))
    deadline.start(QUIT_TIMEOUT_MS)
    try:
        return app.exec()
    finally:
        deadline.stop()


def test_a_tray_host_is_found(qapp: QApplication) -> None:
    assert tray_available()


def test_the_icon_is_in_the_tray_with_its_status_and_menu(qtbot: QtBot, window: MainWindow) -> None:
    icon = tray_icon(window)
    assert icon.isVisible()
    qtbot.waitUntil(lambda: drawn_at(icon.geometry()))
    assert hover_tooltip(qtbot, icon).splitlines() == ["Tracekit", "Strava: Reconnect needed"]
    menu = open_menu(qtbot, icon)
    assert [a.text() for a in menu.actions() if not a.isSeparator()] == MENU
    assert entry(menu, "Pause background sync").isCheckable()
    assert not entry(menu, "Pause background sync").isChecked()
    close_menu(qtbot, menu)
    assert window.isVisible()


def test_closing_keeps_tracekit_in_the_tray_with_a_hint_once(
    qtbot: QtBot, window: MainWindow
) -> None:
    icon = tray_icon(window)
    window.close()  # what the title bar's close button asks (Xvfb has no window manager)
    assert not window.isVisible()
    assert window.db is not None  # still running: the database stays open for the sync
    assert icon.isVisible()
    qtbot.waitUntil(lambda: drawn_at(icon.geometry()))
    assert HINT in messages_on_screen(window)
    menu = open_menu(qtbot, icon)  # clicking the icon also puts the hint away
    assert messages_on_screen(window) == []
    choose(qtbot, menu, "Open Tracekit")
    qtbot.waitUntil(window.isVisible)
    window.close()
    assert not window.isVisible()
    assert messages_on_screen(window) == []  # the hint was shown once
    click(icon.geometry().center(), 1)  # a left click on the icon opens the window too
    qtbot.waitUntil(window.isVisible)


def test_pausing_from_the_tray_shows_in_its_menu_and_tooltip(
    qtbot: QtBot, window: MainWindow
) -> None:
    icon = tray_icon(window)
    choose(qtbot, open_menu(qtbot, icon), "Pause background sync")
    menu = open_menu(qtbot, icon)
    assert entry(menu, "Pause background sync").isChecked()
    close_menu(qtbot, menu)
    assert window.pause_action.isChecked()  # the window's Sync menu agrees
    assert hover_tooltip(qtbot, icon).splitlines()[-1] == "Background sync paused"


def test_quit_in_the_tray_menu_ends_tracekit(
    qtbot: QtBot, qapp: QApplication, window: MainWindow
) -> None:
    icon = tray_icon(window)
    area = icon.geometry()
    window.close()
    press(open_menu(qtbot, icon), "Quit")
    assert run_until_quit(qapp) == 0
    assert window.db is None  # shut down: background work stopped, the database closed
    assert not window.isVisible()
    assert not icon.isVisible()
    qtbot.waitUntil(lambda: not drawn_at(area))  # gone from the tray
