"""The stats view: distance or time per week or month and per sport over a year as stacked
bars (QPainter; PySide6-Essentials has no QtCharts), and distance per piece of gear with the
activities that lack gear one click away. The numbers come from `tracekit.stats`."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from tracekit.sports import FAMILY
from tracekit.units import METRES_PER_MILE, UnitSystem, format_distance, format_duration
from ui.icons import sport_icon
from ui.theme import FAMILY_COLORS, mix

if TYPE_CHECKING:
    from tracekit.stats import Amount, PeriodStats
    from ui.backend import StatsData


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    tooltip: str
    segments: tuple[tuple[str, float], ...]  # (group, value)


def group_color(group: str) -> QColor:
    from tracekit.sports import Sport, SportFamily

    try:
        return QColor(FAMILY_COLORS[SportFamily(group)])
    except ValueError:
        pass
    try:
        return QColor(FAMILY_COLORS[FAMILY[Sport(group)]])
    except ValueError:
        return QColor(FAMILY_COLORS[SportFamily.OTHER])


def group_label(group: str) -> str:
    return group.replace("_", " ").capitalize()


class BarChart(QWidget):
    """Stacked bars with a value axis, labels under the bars, a legend and hover tooltips."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bars: list[Bar] = []
        self.groups: list[str] = []
        self.unit = ""
        self.title = ""
        self._bar_rects: list[QRectF] = []
        self.setMouseTracking(True)
        self.setMinimumHeight(220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Bar chart")

    def sizeHint(self) -> QSize:
        return QSize(640, 300)

    def set_bars(self, bars: list[Bar], groups: list[str], unit: str, title: str) -> None:
        self.bars, self.groups, self.unit, self.title = bars, groups, unit, title
        self.update()

    @staticmethod
    def nice_step(maximum: float) -> float:
        if maximum <= 0:
            return 1.0
        raw = maximum / 4
        magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 0.1
        for factor in (1, 2, 2.5, 5, 10):
            if factor * magnitude >= raw:
                return factor * magnitude
        return 10 * magnitude

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        base = palette.color(QPalette.ColorRole.Base)
        muted = mix(text, base, 0.45)
        gridc = mix(text, base, 0.85)
        painter.fillRect(self.rect(), base)
        fm = QFontMetricsF(self.font())
        title_font = QFont(self.font())
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.setPen(text)
        painter.drawText(QPointF(12, 8 + fm.ascent()), self.title)
        painter.setFont(self.font())
        # legend (top right)
        x = self.width() - 12.0
        for group in reversed(self.groups):
            label = group_label(group)
            w = fm.horizontalAdvance(label)
            x -= w
            painter.setPen(muted)
            painter.drawText(QPointF(x, 8 + fm.ascent()), label)
            x -= 14
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(group_color(group))
            painter.drawRoundedRect(QRectF(x, 8 + (fm.height() - 10) / 2, 10, 10), 2, 2)
            x -= 12
        totals = [sum(v for _g, v in bar.segments) for bar in self.bars]
        maximum = max(totals, default=0.0)
        step = self.nice_step(maximum)
        top_value = step * max(1, -(-maximum // step)) if maximum > 0 else step * 4
        axis_w = fm.horizontalAdvance(f"{top_value:,.0f} {self.unit}") + 10
        plot = QRectF(12 + axis_w, 16 + fm.height() * 1.6, self.width() - axis_w - 24, 0)
        plot.setBottom(self.height() - fm.height() - 14)
        # grid and axis labels
        value = 0.0
        while value <= top_value + 1e-9:
            y = plot.bottom() - plot.height() * value / top_value
            painter.setPen(QPen(gridc, 1))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(muted)
            painter.drawText(
                QRectF(0, y - fm.height() / 2, plot.left() - 6, fm.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                f"{value:,.0f} {self.unit}" if value else "0",
            )
            value += step
        self._bar_rects = []
        if not self.bars:
            painter.end()
            return
        slot = plot.width() / len(self.bars)
        width = max(2.0, min(slot * 0.7, 46.0))
        label_every = max(1, round(fm.horizontalAdvance("W52") * 1.4 / slot))
        for i, bar in enumerate(self.bars):
            left = plot.left() + i * slot + (slot - width) / 2
            y = plot.bottom()
            for group, amount in bar.segments:
                if amount <= 0:
                    continue
                h = plot.height() * amount / top_value
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(group_color(group))
                painter.drawRect(QRectF(left, y - h, width, h))
                y -= h
            self._bar_rects.append(QRectF(plot.left() + i * slot, plot.top(), slot, plot.height()))
            if i % label_every == 0:
                painter.setPen(muted)
                painter.drawText(
                    QRectF(plot.left() + i * slot - 20, plot.bottom() + 4, slot + 40, fm.height()),
                    Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                    bar.label,
                )
        painter.setPen(QPen(muted, 1))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        painter.end()

    def bar_at(self, pos: QPointF) -> int | None:
        for i, rect in enumerate(self._bar_rects):
            if rect.contains(pos):
                return i
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        index = self.bar_at(event.position())
        if index is None:
            QToolTip.hideText()
        else:
            QToolTip.showText(event.globalPosition().toPoint(), self.bars[index].tooltip, self)
        super().mouseMoveEvent(event)


def _distance_value(metres: float, units: UnitSystem) -> float:
    return metres / (METRES_PER_MILE if units is UnitSystem.IMPERIAL else 1000)


def _bars(stats: "PeriodStats", metric: str, units: UnitSystem) -> list[Bar]:
    bars = []
    for bucket in stats.buckets:
        segments = []
        lines = [
            f"{bucket.start:%d %b} – {bucket.end:%d %b %Y}"
            if stats.period.value == "week"
            else f"{bucket.start:%B %Y}"
        ]
        for group in stats.groups:
            amount: Amount | None = bucket.amounts.get(group)
            if amount is None:
                continue
            value = (
                _distance_value(amount.distance_m, units)
                if metric == "distance"
                else amount.elapsed_s / 3600
            )
            segments.append((group, value))
            distance = format_distance(amount.distance_m, units) if amount.distance_m else "—"
            time = format_duration(amount.elapsed_s)
            lines.append(f"{group_label(group)}: {distance}, {time} ({amount.count})")
        if bucket.total.count:
            distance = format_distance(bucket.total.distance_m, units)
            lines.append(f"Total: {distance}, {format_duration(bucket.total.elapsed_s)}")
        else:
            lines.append("No activities")
        label = bucket.label if stats.period.value == "month" else f"{bucket.start:%d.%m}"
        bars.append(Bar(label, "\n".join(lines), tuple(segments)))
    return bars


class StatsView(QWidget):
    """Controls, the chart, the gear table and the activities without gear."""

    request = Signal()  # the controls changed: the window reloads the stats
    activity_chosen = Signal(int, object)  # activity id, local date

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: StatsData | None = None
        self.units = UnitSystem.METRIC
        self.year = QComboBox()
        self.year.setAccessibleName("Year")
        self.period = QComboBox()
        self.period.addItem("Per month", "month")
        self.period.addItem("Per week", "week")
        self.metric_choice = QComboBox()
        self.metric_choice.addItem("Distance", "distance")
        self.metric_choice.addItem("Time", "time")
        self.grouping = QComboBox()
        self.grouping.addItem("By sport family", "family")
        self.grouping.addItem("By sport", "sport")
        for combo in (self.year, self.period, self.grouping):
            combo.currentIndexChanged.connect(self._changed)
        self.metric_choice.currentIndexChanged.connect(self._redraw)
        self.summary = QLabel("")
        controls = QHBoxLayout()
        controls.setContentsMargins(12, 10, 12, 4)
        for w in (QLabel("Year"), self.year, self.period, self.metric_choice, self.grouping):
            controls.addWidget(w)
        controls.addStretch(1)
        controls.addWidget(self.summary)
        self.chart = BarChart()

        self.gear = QTableWidget(0, 4)
        self.gear.setHorizontalHeaderLabels(["Gear", "Activities", "Distance", "Time"])
        self.gear.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.gear.verticalHeader().hide()
        self.gear.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.gear.setAccessibleName("Distance per gear")
        self.missing_button = QPushButton("")
        self.missing_button.setObjectName("missing-gear")
        self.missing_button.setFlat(True)
        self.missing_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.missing_button.clicked.connect(self._toggle_missing)
        self.missing = QListWidget()
        self.missing.setAccessibleName("Activities without gear")
        self.missing.hide()
        self.missing.itemActivated.connect(self._choose_missing)
        self.missing.itemDoubleClicked.connect(self._choose_missing)

        gear_box = QWidget()
        gear_layout = QVBoxLayout(gear_box)
        gear_layout.setContentsMargins(12, 4, 12, 8)
        heading = QLabel("Distance per gear")
        f = QFont(heading.font())
        f.setBold(True)
        heading.setFont(f)
        gear_layout.addWidget(heading)
        gear_layout.addWidget(self.gear, 1)
        gear_layout.addWidget(self.missing_button, 0, Qt.AlignmentFlag.AlignLeft)
        gear_layout.addWidget(self.missing, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        chart_box = QWidget()
        chart_layout = QVBoxLayout(chart_box)
        chart_layout.setContentsMargins(8, 0, 8, 0)
        chart_layout.addWidget(self.chart)
        splitter.addWidget(chart_box)
        splitter.addWidget(gear_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(splitter, 1)
        self._filling = False

    # -- what the window asks for
    def chosen_year(self) -> int | None:
        value = self.year.currentData()
        return int(value) if value is not None else None

    def chosen_period(self) -> str:
        return str(self.period.currentData())

    def chosen_grouping(self) -> str:
        return str(self.grouping.currentData())

    def _changed(self) -> None:
        if not self._filling:
            self.request.emit()

    # -- showing
    def show_stats(self, data: "StatsData", units: UnitSystem) -> None:
        self.data = data
        self.units = units
        self._filling = True
        self.year.clear()
        for y in reversed(data.years or (data.year,)):
            self.year.addItem(str(y), y)
        self.year.setCurrentIndex(max(0, self.year.findData(data.year)))
        self._filling = False
        total = data.periods.total
        self.summary.setText(
            f"{data.year}: {total.count} activities · {format_distance(total.distance_m, units)} · "
            f"{format_duration(total.elapsed_s)}"
        )
        self._redraw()
        self._fill_gear(data, units)

    def _redraw(self) -> None:
        if self.data is None:
            return
        metric = str(self.metric_choice.currentData())
        unit = (
            ("mi" if self.units is UnitSystem.IMPERIAL else "km") if metric == "distance" else "h"
        )
        period = "week" if self.data.periods.period.value == "week" else "month"
        self.chart.set_bars(
            _bars(self.data.periods, metric, self.units),
            list(self.data.periods.groups),
            unit,
            f"{'Distance' if metric == 'distance' else 'Time'} per {period}, {self.data.year}",
        )

    def _fill_gear(self, data: "StatsData", units: UnitSystem) -> None:
        rows = data.gear.gear
        self.gear.setRowCount(len(rows))
        for r, usage in enumerate(rows):
            name = usage.name + (" (retired)" if usage.retired else "")
            cells = [
                name,
                str(usage.amount.count),
                format_distance(usage.amount.distance_m, units),
                format_duration(usage.amount.elapsed_s),
            ]
            for c, value in enumerate(cells):
                item = QTableWidgetItem(value)
                if c:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.gear.setItem(r, c, item)
        missing = data.gear.missing
        self.missing.clear()
        for m in missing:
            text = f"{m.local_date:%Y-%m-%d}  {m.name or group_label(m.sport.value)}"
            if m.distance_m:
                text += f"  · {format_distance(m.distance_m, units)}"
            entry = QListWidgetItem(sport_icon(m.sport.value, 16), text)
            entry.setData(Qt.ItemDataRole.UserRole, (m.activity_id, m.local_date))
            self.missing.addItem(entry)
        if missing:
            noun = "activity has" if len(missing) == 1 else "activities have"
            self.missing_button.setText(
                f"⚠ {len(missing)} cycling/running {noun} no gear — show them"
            )
            self.missing_button.setEnabled(True)
        else:
            self.missing_button.setText("Every cycling and running activity has gear")
            self.missing_button.setEnabled(False)
            self.missing.hide()

    def _toggle_missing(self) -> None:
        self.missing.setVisible(not self.missing.isVisible())

    def _choose_missing(self, item: QListWidgetItem) -> None:
        activity_id, local_date = item.data(Qt.ItemDataRole.UserRole)
        self.activity_chosen.emit(int(activity_id), local_date)
