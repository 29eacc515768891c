"""Light and dark palettes that follow the system, and the colours the window draws with."""

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from tracekit.providers.names import ProviderName
from tracekit.sports import FAMILY, Sport, SportFamily

# Sport families: one hue each, readable on light and dark backgrounds.
FAMILY_COLORS: dict[SportFamily, str] = {
    SportFamily.CYCLING: "#2f80ed",
    SportFamily.RUNNING: "#eb5757",
    SportFamily.SWIMMING: "#00a3bf",
    SportFamily.ON_FOOT: "#6fa843",
    SportFamily.ROWING: "#3f51b5",
    SportFamily.SKIING: "#56b4d3",
    SportFamily.GYM: "#9b51e0",
    SportFamily.MULTISPORT: "#f2994a",
    SportFamily.OTHER: "#8a8f98",
}

PROVIDER_COLORS: dict[ProviderName, str] = {
    ProviderName.GARMIN: "#1a73c8",
    ProviderName.STRAVA: "#fc5200",
    ProviderName.RIDEWITHGPS: "#8e44ad",
    ProviderName.INTERVALSICU: "#0f9d8a",
    ProviderName.SPREADSHEET: "#3c8d2f",
    ProviderName.FILE: "#6b7280",
}

PROVIDER_LETTERS: dict[ProviderName, str] = {
    ProviderName.GARMIN: "G",
    ProviderName.STRAVA: "S",
    ProviderName.RIDEWITHGPS: "R",
    ProviderName.INTERVALSICU: "i",
    ProviderName.SPREADSHEET: "L",
    ProviderName.FILE: "F",
}

REVIEW_COLOR = "#f2a100"
ERROR_COLOR = "#d64545"
OK_COLOR = "#2e9e5b"


def family_color(sport: Sport | str) -> QColor:
    try:
        family = FAMILY[Sport(sport)]
    except ValueError:
        family = SportFamily.OTHER
    return QColor(FAMILY_COLORS[family])


def provider_color(provider: ProviderName | str) -> QColor:
    try:
        return QColor(PROVIDER_COLORS[ProviderName(provider)])
    except ValueError:
        return QColor(PROVIDER_COLORS[ProviderName.FILE])


def provider_letter(provider: ProviderName | str) -> str:
    try:
        return PROVIDER_LETTERS[ProviderName(provider)]
    except ValueError:
        return "?"


def provider_label(provider: ProviderName | str) -> str:
    try:
        return ProviderName(provider).label
    except ValueError:
        return str(provider)


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def light_palette() -> QPalette:
    p = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#f4f5f7",
        QPalette.ColorRole.WindowText: "#1f2328",
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f7f8fa",
        QPalette.ColorRole.ToolTipBase: "#fffdf2",
        QPalette.ColorRole.ToolTipText: "#1f2328",
        QPalette.ColorRole.PlaceholderText: "#8a8f98",
        QPalette.ColorRole.Text: "#1f2328",
        QPalette.ColorRole.Button: "#ffffff",
        QPalette.ColorRole.ButtonText: "#1f2328",
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Light: "#ffffff",
        QPalette.ColorRole.Midlight: "#eceef1",
        QPalette.ColorRole.Mid: "#d5d8dd",
        QPalette.ColorRole.Dark: "#a9aeb6",
        QPalette.ColorRole.Shadow: "#6b7280",
        QPalette.ColorRole.Highlight: "#2f6fde",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#1f63d6",
        QPalette.ColorRole.LinkVisited: "#6d3fc4",
    }
    for role, value in colors.items():
        p.setColor(role, QColor(value))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#a0a5ad"))
    return p


def dark_palette() -> QPalette:
    p = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#1e2024",
        QPalette.ColorRole.WindowText: "#e6e8eb",
        QPalette.ColorRole.Base: "#17191c",
        QPalette.ColorRole.AlternateBase: "#222529",
        QPalette.ColorRole.ToolTipBase: "#2b2e33",
        QPalette.ColorRole.ToolTipText: "#e6e8eb",
        QPalette.ColorRole.PlaceholderText: "#7d838c",
        QPalette.ColorRole.Text: "#e6e8eb",
        QPalette.ColorRole.Button: "#2a2d32",
        QPalette.ColorRole.ButtonText: "#e6e8eb",
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Light: "#3a3e44",
        QPalette.ColorRole.Midlight: "#2f3237",
        QPalette.ColorRole.Mid: "#3b3f45",
        QPalette.ColorRole.Dark: "#111214",
        QPalette.ColorRole.Shadow: "#000000",
        QPalette.ColorRole.Highlight: "#3d7be6",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#7aa7ff",
        QPalette.ColorRole.LinkVisited: "#b69cff",
    }
    for role, value in colors.items():
        p.setColor(role, QColor(value))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b7078"))
    return p


def wants_dark(app: QGuiApplication) -> bool:
    """TRACEKIT_THEME=dark|light wins; otherwise the system's colour scheme (Qt 6.5+)."""
    forced = os.environ.get("TRACEKIT_THEME", "").lower()
    if forced in ("dark", "light"):
        return forced == "dark"
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, dark: bool | None = None) -> None:
    """Fusion with our palette; re-applied whenever the system switches light/dark."""
    app.setStyle("Fusion")
    app.setPalette(
        dark_palette() if (wants_dark(app) if dark is None else dark) else light_palette()
    )
    if dark is None and not app.property("tracekitThemeFollows"):
        app.setProperty("tracekitThemeFollows", True)
        app.styleHints().colorSchemeChanged.connect(lambda _scheme: apply_theme(app))


def mix(a: QColor, b: QColor, amount: float) -> QColor:
    """`a` moved `amount` (0–1) of the way towards `b`."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * amount,
        a.greenF() + (b.greenF() - a.greenF()) * amount,
        a.blueF() + (b.blueF() - a.blueF()) * amount,
        1.0,
    )
