"""The activity detail pane: canonical values beside each provider's record, how each record
was linked, the simplified track drawn with QPainter, and the actions on the activity."""

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, QLocale, QPointF, QRectF, QSize, Qt, Signal, SignalInstance
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tracekit.units import UnitSystem, format_distance, format_duration
from ui.icons import draw_sport, provider_icon
from ui.theme import REVIEW_COLOR, family_color, is_dark, mix

if TYPE_CHECKING:
    from tracekit.stats import ActivityDetail, RecordDetail

EARTH_M_PER_DEG = 111_320.0
SHORT_LABELS = {
    "garmin": "Garmin",
    "strava": "Strava",
    "ridewithgps": "RWGPS",
    "intervalsicu": "intervals",
    "spreadsheet": "Log",
    "file": "File",
}


class TrackPreview(QWidget):
    """A simplified track ([lat, lon] points) drawn to fit, north up, with a scale bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.points: tuple[tuple[float, float], ...] = ()
        self.color = QColor("#2f80ed")
        self.caption = ""
        self.setMinimumHeight(150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Track preview")

    def sizeHint(self) -> QSize:
        return QSize(320, 190)

    def set_track(
        self, points: Sequence[tuple[float, float]], color: QColor, caption: str = ""
    ) -> None:
        self.points = tuple(points)
        self.color = color
        self.caption = caption
        self.update()

    def project(self, rect: QRectF) -> list[QPointF]:
        """Equirectangular projection around the track's mean latitude, fitted into `rect`."""
        if len(self.points) < 2:
            return []
        mean_lat = sum(p[0] for p in self.points) / len(self.points)
        k = math.cos(math.radians(mean_lat))
        xs = [p[1] * k for p in self.points]
        ys = [-p[0] for p in self.points]
        width = max(max(xs) - min(xs), 1e-9)
        height = max(max(ys) - min(ys), 1e-9)
        scale = min(rect.width() / width, rect.height() / height)
        ox = rect.left() + (rect.width() - width * scale) / 2 - min(xs) * scale
        oy = rect.top() + (rect.height() - height * scale) / 2 - min(ys) * scale
        self._metres_per_px = EARTH_M_PER_DEG / scale
        return [QPointF(ox + x * scale, oy + y * scale) for x, y in zip(xs, ys, strict=True)]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        outer = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        dark = is_dark(palette)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
        painter.setBrush(palette.color(QPalette.ColorRole.AlternateBase))
        painter.drawRoundedRect(outer, 8, 8)
        text = palette.color(QPalette.ColorRole.Text)
        muted = mix(text, palette.color(QPalette.ColorRole.Base), 0.5)
        points = self.project(outer.adjusted(18, 18, -18, -26))
        if not points:
            painter.setPen(muted)
            painter.drawText(outer, Qt.AlignmentFlag.AlignCenter, "No track from these providers")
            painter.end()
            return
        path = QPainterPath(points[0])
        for point in points[1:]:
            path.lineTo(point)
        halo = QPen(
            mix(self.color, palette.color(QPalette.ColorRole.Base), 0.6 if not dark else 0.7), 7
        )
        halo.setCapStyle(Qt.PenCapStyle.RoundCap)
        halo.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(halo)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        pen = QPen(self.color, 2.6)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.drawPath(path)
        for point, color in ((points[-1], "#d64545"), (points[0], "#2e9e5b")):
            painter.setPen(QPen(QColor("white"), 2))
            painter.setBrush(QBrush(QColor(color)))
            painter.drawEllipse(point, 5, 5)
        self._paint_scale(painter, outer, muted)
        if self.caption:
            painter.setPen(muted)
            painter.drawText(
                outer.adjusted(10, 0, -10, -6),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
                self.caption,
            )
        painter.end()

    def _paint_scale(self, painter: QPainter, outer: QRectF, color: QColor) -> None:
        metres_per_px = getattr(self, "_metres_per_px", 0.0)
        if metres_per_px <= 0:
            return
        target = 80 * metres_per_px
        nice = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000]
        length = max((n for n in nice if n <= target), default=nice[0])
        px = length / metres_per_px
        x0, y0 = outer.left() + 12, outer.bottom() - 10
        painter.setPen(QPen(color, 1.5))
        painter.drawLine(QPointF(x0, y0), QPointF(x0 + px, y0))
        painter.drawLine(QPointF(x0, y0 - 4), QPointF(x0, y0))
        painter.drawLine(QPointF(x0 + px, y0 - 4), QPointF(x0 + px, y0))
        label = f"{length // 1000} km" if length >= 1000 else f"{length} m"
        painter.drawText(QPointF(x0 + px + 6, y0 + 3), label)


class SportGlyph(QWidget):
    def __init__(self, size: int = 34, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sport = "other"
        self.setFixedSize(size, size)

    def set_sport(self, sport: str) -> None:
        self.sport = sport
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        draw_sport(painter, QRectF(self.rect()).adjusted(1, 1, -1, -1), self.sport)
        painter.end()


def _clear(layout: QVBoxLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.deleteLater()


class ActivityDetailPane(QScrollArea):
    """Shows one `ActivityDetail`; asks the window to act on it through signals."""

    open_url = Signal(str)
    show_file = Signal(str)
    unlink_requested = Signal(int)  # record id
    link_requested = Signal(int)  # activity id
    pin_requested = Signal(int)  # activity id
    review_requested = Signal(int)  # activity id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.detail: ActivityDetail | None = None
        self.units = UnitSystem.METRIC
        self.pin_tooltip = ""
        self.pin_enabled = False
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMinimumWidth(300)
        self.setAccessibleName("Activity detail")
        body = QWidget()
        self.setWidget(body)
        self.body = QVBoxLayout(body)
        self.body.setContentsMargins(14, 12, 14, 12)
        self.body.setSpacing(10)

        head = QHBoxLayout()
        self.glyph = SportGlyph(36)
        head.addWidget(self.glyph, 0, Qt.AlignmentFlag.AlignTop)
        titles = QVBoxLayout()
        titles.setSpacing(1)
        self.title = QLabel("")
        self.title.setWordWrap(True)
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle = QLabel("")
        self.subtitle.setWordWrap(True)
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        head.addLayout(titles, 1)
        self.body.addLayout(head)

        self.review = QLabel("")
        self.review.setWordWrap(True)
        self.review.setStyleSheet(
            f"background: {QColor(REVIEW_COLOR).name()}22; border: 1px solid {REVIEW_COLOR};"
            "border-radius: 6px; padding: 6px;"
        )
        self.review.hide()
        self.body.addWidget(self.review)

        self.numbers = QLabel("")
        numbers_font = QFont(self.numbers.font())
        numbers_font.setPointSizeF(numbers_font.pointSizeF() * 1.15)
        self.numbers.setFont(numbers_font)
        self.body.addWidget(self.numbers)

        self.track = TrackPreview()
        self.body.addWidget(self.track)

        self.values = QTableWidget(0, 1)
        self.values.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.values.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.values.verticalHeader().setDefaultSectionSize(22)
        self.values.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.values.horizontalHeader().setStretchLastSection(True)
        self.values.setWordWrap(False)
        self.values.setAccessibleName("Values by provider")
        self.values.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.values.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.values.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.values.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.values_heading = self._heading("Values")
        self.body.addWidget(self.values_heading)
        self.body.addWidget(self.values)

        self.records_heading = self._heading("Records and links")
        self.body.addWidget(self.records_heading)
        self.records_box = QVBoxLayout()
        self.records_box.setSpacing(6)
        self.body.addLayout(self.records_box)

        actions = QHBoxLayout()
        self.link_button = QPushButton("Link…")
        self.link_button.setToolTip("Link a record of another activity to this one")
        self.link_button.clicked.connect(lambda: self._emit_for_activity(self.link_requested))
        self.pin_button = QPushButton("Pin…")
        self.pin_button.clicked.connect(lambda: self._emit_for_activity(self.pin_requested))
        self.review_button = QPushButton("Review…")
        self.review_button.setToolTip("Proposed fixes for this activity")
        self.review_button.clicked.connect(lambda: self._emit_for_activity(self.review_requested))
        actions.addWidget(self.link_button)
        actions.addWidget(self.pin_button)
        actions.addWidget(self.review_button)
        actions.addStretch(1)
        self.body.addLayout(actions)
        self.body.addStretch(1)

        self.placeholder = QLabel(
            "Select an activity in the calendar to see where its values come from."
        )
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.insertWidget(0, self.placeholder)
        self.set_detail(None)

    def _heading(self, text: str) -> QLabel:
        label = QLabel(text)
        font = QFont(label.font())
        font.setBold(True)
        label.setFont(font)
        return label

    def _emit_for_activity(self, signal: SignalInstance) -> None:
        if self.detail is not None:
            signal.emit(self.detail.activity_id)

    def set_pin_available(self, available: bool, reason: str) -> None:
        self.pin_enabled = available
        self.pin_tooltip = "Fix a value so it wins over every provider" if available else reason
        self.pin_button.setEnabled(available and self.detail is not None)
        self.pin_button.setToolTip(self.pin_tooltip)

    def set_review_available(self, available: bool, reason: str) -> None:
        self.review_button.setEnabled(available)
        self.review_button.setToolTip("Proposed fixes for this activity" if available else reason)

    def set_detail(self, detail: "ActivityDetail | None", units: UnitSystem | None = None) -> None:
        self.detail = detail
        if units is not None:
            self.units = units
        showing = detail is not None
        for w in (
            self.glyph,
            self.title,
            self.subtitle,
            self.numbers,
            self.track,
            self.values,
            self.values_heading,
            self.records_heading,
        ):
            w.setVisible(showing)
        for button in (self.link_button, self.pin_button, self.review_button):
            button.setVisible(showing)
        self.placeholder.setVisible(not showing)
        _clear(self.records_box)
        if detail is None:
            self.review.hide()
            return
        self.glyph.set_sport(detail.sport.value)
        self.title.setText(detail.name or detail.sport.value.replace("_", " ").capitalize())
        when = QLocale().toString(QDate(detail.local_date), "dddd d MMMM yyyy")
        if detail.start_local and not detail.date_only:
            when += f" · {detail.start_local:%H:%M}"
        if detail.timezone:
            when += f" ({detail.timezone})"
        self.subtitle.setText(when)
        numbers = [
            format_distance(detail.distance_m, self.units) if detail.distance_m else "",
            format_duration(detail.elapsed_s) if detail.elapsed_s else "",
        ]
        self.numbers.setText("   ".join(n for n in numbers if n))
        if detail.needs_review or detail.review:
            lines = detail.review or ("The matcher left this activity for you to check.",)
            self.review.setText("<b>Needs review</b><br>" + "<br>".join(lines))
            self.review.show()
        else:
            self.review.hide()
        caption = ""
        if detail.track_provider is not None:
            caption = f"track from {detail.track_provider.label}"
        self.track.set_track(detail.track, family_color(detail.sport.value), caption)
        self._fill_values(detail)
        for record in detail.records:
            self.records_box.addWidget(self._record_card(record, len(detail.records)))
        self.pin_button.setEnabled(self.pin_enabled)
        self.pin_button.setToolTip(self.pin_tooltip)

    def _fill_values(self, detail: "ActivityDetail") -> None:
        table = self.values
        table.clear()
        headers = ["Tracekit"] + [
            SHORT_LABELS.get(r.provider.value, r.provider.label) + ("" if r.is_source else " ✎")
            for r in detail.records
        ]
        table.setColumnCount(len(headers))
        table.setRowCount(len(detail.rows))
        table.setHorizontalHeaderLabels(headers)
        for col, record in enumerate(detail.records, start=1):
            item = table.horizontalHeaderItem(col)
            if item is not None:
                item.setIcon(provider_icon(record.provider.value, 14))
                item.setToolTip(
                    f"{record.provider.label} {record.provider_id}"
                    + ("" if record.is_source else " (write-only: receives values, never a source)")
                )
        table.setVerticalHeaderLabels([row.field.label for row in detail.rows])
        palette = self.palette()
        flag = mix(palette.color(QPalette.ColorRole.Base), QColor(REVIEW_COLOR), 0.22)
        bold = QFont(table.font())
        bold.setBold(True)
        for r, row in enumerate(detail.rows):
            main = QTableWidgetItem(row.canonical)
            main.setToolTip(row.canonical)
            main.setFont(bold)
            if row.pinned:
                main.setText(f"{row.canonical}  (pinned)")
                main.setToolTip("You pinned this value: it wins over every provider")
            table.setItem(r, 0, main)
            for c, (value, differs) in enumerate(
                zip(row.values, row.differs, strict=True), start=1
            ):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                if differs:
                    item.setBackground(flag)
                    item.setToolTip(f"Differs from Tracekit's value ({row.canonical or 'empty'})")
                table.setItem(r, c, item)
        table.resizeColumnsToContents()
        for col in range(table.columnCount()):
            table.setColumnWidth(col, min(table.columnWidth(col), 150 if col == 0 else 118))
        wide = sum(table.columnWidth(c) for c in range(table.columnCount())) > 330
        height = (
            table.horizontalHeader().sizeHint().height()
            + sum(table.rowHeight(i) for i in range(table.rowCount()))
            + (table.horizontalScrollBar().sizeHint().height() if wide else 0)
            + 2 * table.frameWidth()
        )
        table.setFixedHeight(height)

    def _record_card(self, record: "RecordDetail", count: int) -> QFrame:
        card = QFrame()
        card.setFrameShape(QFrame.Shape.StyledPanel)
        card.setObjectName(f"record-{record.record_id}")
        layout = QVBoxLayout(card)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(2)
        top = QHBoxLayout()
        badge = QLabel()
        badge.setPixmap(provider_icon(record.provider.value, 16).pixmap(16, 16))
        top.addWidget(badge)
        name = QLabel(f"<b>{record.provider.label}</b> <span>{record.provider_id[:18]}</span>")
        name.setToolTip(record.provider_id)
        name.setWordWrap(True)
        top.addWidget(name, 1)
        if record.url:
            open_button = QPushButton("Open")
            open_button.setToolTip(f"Open on {record.provider.label}: {record.url}")
            open_button.clicked.connect(lambda _=False, url=record.url: self.open_url.emit(url))
            top.addWidget(open_button)
        elif record.file_path:
            file_button = QPushButton("Show file")
            file_button.setToolTip(record.file_path)
            file_button.clicked.connect(
                lambda _=False, path=record.file_path: self.show_file.emit(path)
            )
            top.addWidget(file_button)
        unlink = QPushButton("Unlink")
        unlink.setObjectName(f"unlink-{record.record_id}")
        unlink.setEnabled(count > 1)
        unlink.setToolTip(
            "Make this record its own activity (the matcher will not join it again)"
            if count > 1
            else "This record is the activity's only one"
        )
        unlink.clicked.connect(
            lambda _=False, rid=record.record_id: self.unlink_requested.emit(rid)
        )
        top.addWidget(unlink)
        layout.addLayout(top)
        summary = QLabel(record.link_summary)
        summary.setWordWrap(True)
        summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(summary)
        if record.link_details:
            details = QLabel(
                "<br>".join(f"{label}: {value}" for label, value in record.link_details)
            )
            details.setWordWrap(True)
            details.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            details.setToolTip(
                "\n".join(f"{label}: {value}" for label, value in record.link_details)
            )
            small = QFont(details.font())
            small.setPointSizeF(small.pointSizeF() * 0.9)
            details.setFont(small)
            muted = mix(
                self.palette().color(QPalette.ColorRole.Text),
                self.palette().color(QPalette.ColorRole.Base),
                0.4,
            )
            details.setStyleSheet(f"color: {muted.name()};")
            layout.addWidget(details)
        return card
