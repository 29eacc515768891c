"""The system tray icon, where the platform has one: menu, tooltip and messages.

Every decision comes from `ui.tray_logic.TrayController`; this class only maps it onto a
QSystemTrayIcon. Without a tray (offscreen, many Linux desktops) `create_tray` returns None and
the window simply quits when closed.
"""

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from ui.icons import app_icon
from ui.tray_logic import Level, MenuItem, TrayAction, TrayController, TrayMessage


def tray_available() -> bool:
    return QSystemTrayIcon.isSystemTrayAvailable()


class Tray(QObject):
    """A QSystemTrayIcon driven by a TrayController."""

    action_triggered = Signal(str)  # a TrayAction value

    def __init__(self, controller: TrayController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.icon = QSystemTrayIcon(app_icon(), self)
        self.menu = QMenu(parent)
        self.actions: dict[TrayAction, QAction] = {}
        for item in controller.menu():
            action = QAction(item.text, self.menu)
            action.triggered.connect(
                lambda _=False, a=item.action: self.action_triggered.emit(a.value)
            )
            self.actions[item.action] = action
            self.menu.addAction(action)
            if item.action is TrayAction.PAUSE:
                self.menu.addSeparator()
        self.refresh_menu()
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.icon.setToolTip("Tracekit")
        self.icon.show()

    def refresh_menu(self) -> None:
        for item in self.controller.menu():
            self._apply(item)

    def _apply(self, item: MenuItem) -> None:
        action = self.actions[item.action]
        action.setText(item.text)
        action.setEnabled(item.enabled)
        action.setCheckable(item.checkable)
        if item.checkable:
            action.setChecked(item.checked)
        action.setToolTip(item.tooltip)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.action_triggered.emit(TrayAction.OPEN.value)

    def set_tooltip(self, text: str) -> None:
        self.icon.setToolTip(text)

    def show_message(self, message: TrayMessage) -> None:
        icon = {
            Level.INFO: QSystemTrayIcon.MessageIcon.Information,
            Level.WARNING: QSystemTrayIcon.MessageIcon.Warning,
            Level.ERROR: QSystemTrayIcon.MessageIcon.Critical,
        }[message.level]
        self.icon.showMessage(message.title, message.body, icon, 8000)

    def hide(self) -> None:
        self.icon.hide()


def create_tray(
    controller: TrayController,
    parent: QWidget,
    on_action: Callable[[str], None],
    available: Callable[[], bool] = tray_available,
) -> Tray | None:
    """A tray icon when the platform offers one, else None (the no-tray path)."""
    if not available():
        return None
    tray = Tray(controller, parent)
    tray.action_triggered.connect(on_action)
    return tray
