"""Small vector pictograms drawn with QPainter: sports, provider badges, the app icon.

Drawn in code so they look the same on every platform and need no font with emoji.
"""

import math
from functools import cache

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QIcon,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)

from tracekit.providers.names import ProviderName
from tracekit.sports import FAMILY, Sport, SportFamily
from ui.theme import family_color, provider_color, provider_letter


def _family(sport: Sport | str) -> SportFamily:
    try:
        return FAMILY[Sport(sport)]
    except ValueError:
        return SportFamily.OTHER


def draw_sport(painter: QPainter, rect: QRectF, sport: Sport | str) -> None:
    """A filled disc in the sport family's colour with a white pictogram."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(family_color(sport))
    painter.drawEllipse(rect)
    s = rect.width()
    c = rect.center()
    pen = QPen(QColor("white"), max(1.0, s * 0.09))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)

    def p(x: float, y: float) -> QPointF:
        return QPointF(c.x() + x * s, c.y() + y * s)

    match _family(sport):
        case SportFamily.CYCLING:
            r = s * 0.15
            painter.drawEllipse(p(-0.2, 0.1), r, r)
            painter.drawEllipse(p(0.2, 0.1), r, r)
            path = QPainterPath(p(-0.2, 0.1))
            path.lineTo(p(-0.02, -0.15))
            path.lineTo(p(0.13, -0.15))
            path.lineTo(p(0.2, 0.1))
            path.moveTo(p(-0.02, -0.15))
            path.lineTo(p(0.03, 0.1))
            path.lineTo(p(0.13, -0.15))
            painter.drawPath(path)
        case SportFamily.RUNNING:
            painter.setBrush(QColor("white"))
            painter.drawEllipse(p(0.07, -0.25), s * 0.06, s * 0.06)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            path = QPainterPath(p(0.02, -0.13))
            path.lineTo(p(-0.06, 0.07))
            path.lineTo(p(0.1, 0.18))
            path.lineTo(p(0.08, 0.3))
            path.moveTo(p(-0.06, 0.07))
            path.lineTo(p(-0.2, 0.24))
            path.moveTo(p(-0.16, -0.02))
            path.lineTo(p(0.0, -0.1))
            path.lineTo(p(0.16, 0.0))
            painter.drawPath(path)
        case SportFamily.SWIMMING:
            for dy in (-0.08, 0.12):
                path = QPainterPath(p(-0.28, dy))
                for i in range(1, 9):
                    x = -0.28 + i * 0.07
                    path.lineTo(p(x, dy + 0.05 * math.sin(i * math.pi / 2)))
                painter.drawPath(path)
            painter.setBrush(QColor("white"))
            painter.drawEllipse(p(0.12, -0.24), s * 0.06, s * 0.06)
        case SportFamily.ON_FOOT:
            path = QPainterPath(p(-0.3, 0.2))
            path.lineTo(p(-0.08, -0.18))
            path.lineTo(p(0.04, 0.02))
            path.lineTo(p(0.12, -0.08))
            path.lineTo(p(0.3, 0.2))
            path.closeSubpath()
            painter.drawPath(path)
        case SportFamily.ROWING:
            painter.drawLine(p(-0.25, 0.22), p(0.22, -0.22))
            painter.drawLine(p(-0.3, 0.08), p(0.3, 0.08))
        case SportFamily.SKIING:
            for angle in (0, 60, 120):
                a = math.radians(angle)
                dx, dy = 0.26 * math.cos(a), 0.26 * math.sin(a)
                painter.drawLine(p(-dx, -dy), p(dx, dy))
        case SportFamily.GYM:
            painter.drawLine(p(-0.2, 0), p(0.2, 0))
            for x in (-0.2, 0.2):
                painter.drawLine(p(x, -0.14), p(x, 0.14))
            for x in (-0.28, 0.28):
                painter.drawLine(p(x, -0.08), p(x, 0.08))
        case SportFamily.MULTISPORT:
            painter.setBrush(QColor("white"))
            painter.setPen(Qt.PenStyle.NoPen)
            for x in (-0.17, 0.0, 0.17):
                painter.drawEllipse(p(x, 0), s * 0.06, s * 0.06)
        case _:
            painter.setBrush(QColor("white"))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(c, s * 0.1, s * 0.1)
    painter.restore()


def draw_badge(
    painter: QPainter, rect: QRectF, provider: ProviderName | str, font: QFont | None = None
) -> None:
    """A rounded square in the provider's colour with its letter."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(provider_color(provider))
    radius = rect.height() * 0.28
    painter.drawRoundedRect(rect, radius, radius)
    badge_font = QFont(font) if font is not None else QFont()
    badge_font.setBold(True)
    badge_font.setPixelSize(max(7, round(rect.height() * 0.72)))
    painter.setFont(badge_font)
    painter.setPen(QColor("white"))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, provider_letter(provider))
    painter.restore()


def draw_review_marker(painter: QPainter, rect: QRectF, color: QColor) -> None:
    """A small warning triangle with an exclamation mark."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath(QPointF(rect.center().x(), rect.top()))
    path.lineTo(rect.bottomRight())
    path.lineTo(rect.bottomLeft())
    path.closeSubpath()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawPath(path)
    pen = QPen(QColor("white"), max(1.0, rect.width() * 0.13))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    x = rect.center().x()
    painter.drawLine(
        QPointF(x, rect.top() + rect.height() * 0.38), QPointF(x, rect.top() + rect.height() * 0.65)
    )
    painter.drawPoint(QPointF(x, rect.top() + rect.height() * 0.82))
    painter.restore()


def _pixmap(size: int, draw: object) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    assert callable(draw)
    draw(painter, QRectF(1, 1, size - 2, size - 2))
    painter.end()
    return pixmap


@cache
def sport_icon(sport: str, size: int = 16) -> QIcon:
    return QIcon(_pixmap(size, lambda painter, rect: draw_sport(painter, rect, sport)))


@cache
def provider_icon(provider: str, size: int = 16) -> QIcon:
    return QIcon(_pixmap(size, lambda painter, rect: draw_badge(painter, rect, provider)))


def _draw_app_icon(painter: QPainter, rect: QRectF) -> None:
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    gradient = QLinearGradient(rect.topLeft(), rect.bottomRight())
    gradient.setColorAt(0.0, QColor("#3b82f6"))
    gradient.setColorAt(1.0, QColor("#1e40af"))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(gradient))
    radius = rect.width() * 0.22
    painter.drawRoundedRect(rect, radius, radius)
    s = rect.width()
    pen = QPen(QColor("white"), s * 0.08)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    path = QPainterPath(QPointF(rect.left() + s * 0.18, rect.top() + s * 0.66))
    path.lineTo(QPointF(rect.left() + s * 0.38, rect.top() + s * 0.42))
    path.lineTo(QPointF(rect.left() + s * 0.55, rect.top() + s * 0.58))
    path.lineTo(QPointF(rect.left() + s * 0.82, rect.top() + s * 0.28))
    painter.drawPath(path)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#fbbf24"))
    painter.drawEllipse(QPointF(rect.left() + s * 0.82, rect.top() + s * 0.28), s * 0.07, s * 0.07)


@cache
def app_icon() -> QIcon:
    """The shipped icon (`resources/icons`, via `tracekit.resources`), else the drawn one."""
    icon = QIcon()
    try:
        from tracekit.resources import app_icon_pngs

        for size, path in app_icon_pngs().items():
            icon.addFile(str(path), QSize(size, size))
    except (ImportError, FileNotFoundError):
        icon = QIcon()
    if icon.isNull():
        for size in (16, 24, 32, 48, 64, 128, 256):
            icon.addPixmap(_pixmap(size, _draw_app_icon))
    return icon
