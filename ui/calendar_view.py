"""The month calendar: a Qt table model over `tracekit.stats.MonthGrid`, a painting delegate,
the view, and the panel with navigation and month/year totals.

Rows are weeks, the first seven columns are days in the locale's week order, the eighth holds
the week's totals. Each day lists its activities (sport pictogram, name, distance and time in
the user's units, a badge per provider that has the session, a marker when it needs review).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QEvent,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from tracekit.units import UnitSystem, format_distance, format_duration
from ui.icons import draw_badge, draw_review_marker, draw_sport
from ui.theme import REVIEW_COLOR, family_color, is_dark, mix, provider_color, provider_label

if TYPE_CHECKING:
    from tracekit.calendar import CalendarEntry, Totals
    from ui.backend import MonthData

DateRole = Qt.ItemDataRole.UserRole + 1
EntriesRole = Qt.ItemDataRole.UserRole + 2
InMonthRole = Qt.ItemDataRole.UserRole + 3
TodayRole = Qt.ItemDataRole.UserRole + 4
WeekTotalsRole = Qt.ItemDataRole.UserRole + 5
SelectedActivityRole = Qt.ItemDataRole.UserRole + 6

WEEK_COLUMN = 7

type AnyIndex = QModelIndex | QPersistentModelIndex


def qt_first_weekday(locale: QLocale | None = None) -> int:
    """The locale's first day of the week as Python counts (0 Monday … 6 Sunday)."""
    day = (locale or QLocale()).firstDayOfWeek()
    return (day.value - 1) % 7


def short_distance(metres: float | None, units: UnitSystem) -> str:
    if not metres:
        return ""
    text = format_distance(metres, units)
    number, _, unit = text.partition(" ")
    value = float(number)
    return f"{value:.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}"


def short_duration(seconds: float | None) -> str:
    if not seconds:
        return ""
    minutes = round(seconds / 60)
    hours, mins = divmod(minutes, 60)
    return f"{hours}h{mins:02d}" if hours else f"{mins} min"


def totals_text(totals: "Totals", units: UnitSystem) -> str:
    if not totals.count:
        return "no activities"
    noun = "activity" if totals.count == 1 else "activities"
    parts = [f"{totals.count} {noun}"]
    if totals.distance_m:
        parts.append(format_distance(totals.distance_m, units))
    if totals.elapsed_s:
        parts.append(short_duration(totals.elapsed_s))
    return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class _Cell:
    day: date
    in_month: bool
    entries: tuple["CalendarEntry", ...]


class CalendarModel(QAbstractTableModel):
    """Weeks × (7 days + week totals) of one month."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cells: list[list[_Cell]] = []
        self._weeks: list[Totals] = []
        self._first_weekday = 0
        self._units = UnitSystem.METRIC
        self._today = date.today()
        self._locale = QLocale()
        self.data_month: MonthData | None = None
        self.selected_activity: int | None = None

    # -- feeding
    def set_month(self, data: "MonthData", units: UnitSystem, today: date | None = None) -> None:
        self.beginResetModel()
        self.data_month = data
        self._units = units
        self._today = today or date.today()
        self._first_weekday = data.grid.weeks[0].days[0].weekday() if data.grid.weeks else 0
        self._cells = [
            [
                _Cell(day, day.month == data.month.month, tuple(data.view.days.get(day, ())))
                for day in week.days
            ]
            for week in data.grid.weeks
        ]
        self._weeks = [week.totals for week in data.grid.weeks]
        self.endResetModel()

    def set_units(self, units: UnitSystem) -> None:
        self._units = units
        if self._cells:
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, WEEK_COLUMN))

    def set_selected_activity(self, activity_id: int | None) -> None:
        self.selected_activity = activity_id
        if self._cells:
            self.dataChanged.emit(
                self.index(0, 0), self.index(self.rowCount() - 1, WEEK_COLUMN - 1)
            )

    @property
    def units(self) -> UnitSystem:
        return self._units

    @property
    def today(self) -> date:
        return self._today

    def week_totals(self, row: int) -> "Totals | None":
        return self._weeks[row] if 0 <= row < len(self._weeks) else None

    # -- lookups
    def cell(self, index: AnyIndex) -> _Cell | None:
        if not index.isValid() or index.column() >= WEEK_COLUMN or index.row() >= len(self._cells):
            return None
        return self._cells[index.row()][index.column()]

    def index_of_date(self, day: date) -> QModelIndex:
        for r, week in enumerate(self._cells):
            for c, cell in enumerate(week):
                if cell.day == day:
                    return self.index(r, c)
        return QModelIndex()

    def index_of_activity(self, activity_id: int) -> QModelIndex:
        for r, week in enumerate(self._cells):
            for c, cell in enumerate(week):
                if any(e.activity_id == activity_id for e in cell.entries):
                    return self.index(r, c)
        return QModelIndex()

    def entry(self, activity_id: int) -> "CalendarEntry | None":
        for week in self._cells:
            for cell in week:
                for e in cell.entries:
                    if e.activity_id == activity_id:
                        return e
        return None

    # -- Qt model interface
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._cells)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else WEEK_COLUMN + 1

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        if section == WEEK_COLUMN:
            return "Week"
        weekday = (self._first_weekday + section) % 7  # 0 Monday
        return self._locale.dayName(weekday + 1, QLocale.FormatType.ShortFormat)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if index.column() == WEEK_COLUMN:
            return Qt.ItemFlag.ItemIsEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._cells):
            return None
        if index.column() == WEEK_COLUMN:
            totals = self._weeks[index.row()]
            if role == WeekTotalsRole:
                return totals
            if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
                return "Week: " + totals_text(totals, self._units)
            return None
        cell = self._cells[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return str(cell.day.day)
        if role == DateRole:
            return cell.day
        if role == EntriesRole:
            return cell.entries
        if role == InMonthRole:
            return cell.in_month
        if role == TodayRole:
            return cell.day == self._today
        if role == SelectedActivityRole:
            return self.selected_activity
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._describe(cell)
        return None

    def _describe(self, cell: _Cell) -> str:
        head = self._locale.toString(QDate(cell.day), QLocale.FormatType.LongFormat)
        lines = [head]
        for e in cell.entries:
            bits = [e.name or e.sport.replace("_", " ").capitalize()]
            if e.distance_m:
                bits.append(format_distance(e.distance_m, self._units))
            if e.elapsed_s:
                bits.append(format_duration(e.elapsed_s))
            line = " · ".join(bits)
            line += "  [" + ", ".join(provider_label(p) for p in e.providers) + "]"
            if e.needs_review:
                line += "  — needs review"
            lines.append(line)
        return "\n".join(lines)


@dataclass(slots=True)
class _Style:
    """Fonts, metrics and colours for one font and palette, worked out once, not per cell."""

    font: QFont
    bold: QFont
    small: QFont
    small_bold: QFont
    line: float
    small_line: float
    metrics: QFontMetricsF
    small_metrics: QFontMetricsF
    base: QColor
    alternate: QColor
    text: QColor
    muted: QColor
    faint: QColor
    secondary: QColor
    grid: QColor
    highlight: QColor
    highlighted_text: QColor
    focus_fill: QColor
    focus_fill_out: QColor
    dark: bool
    cards: dict[str, tuple[QColor, QColor, QColor]]  # sport → (accent, card, selected card)

    @classmethod
    def build(cls, font: QFont, palette: QPalette) -> "_Style":
        small = QFont(font)
        small.setPointSizeF(max(6.5, font.pointSizeF() * 0.85))
        bold = QFont(font)
        bold.setBold(True)
        small_bold = QFont(small)
        small_bold.setBold(True)
        base = palette.color(QPalette.ColorRole.Base)
        alternate = palette.color(QPalette.ColorRole.AlternateBase)
        text = palette.color(QPalette.ColorRole.Text)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        dark = is_dark(palette)
        return cls(
            font=font,
            bold=bold,
            small=small,
            small_bold=small_bold,
            line=QFontMetricsF(font).height(),
            small_line=QFontMetricsF(small).height(),
            metrics=QFontMetricsF(font),
            small_metrics=QFontMetricsF(small),
            base=base,
            alternate=alternate,
            text=text,
            muted=mix(text, base, 0.55),
            faint=mix(text, base, 0.7),
            secondary=mix(text, base, 0.35),
            grid=palette.color(QPalette.ColorRole.Mid),
            highlight=highlight,
            highlighted_text=palette.color(QPalette.ColorRole.HighlightedText),
            focus_fill=mix(base, highlight, 0.10 if dark else 0.06),
            focus_fill_out=mix(alternate, highlight, 0.10 if dark else 0.06),
            dark=dark,
            cards={},
        )

    def card_colors(self, sport: str) -> tuple[QColor, QColor, QColor]:
        found = self.cards.get(sport)
        if found is None:
            accent = family_color(sport)
            found = (
                accent,
                mix(self.base, accent, 0.22 if self.dark else 0.12),
                mix(self.base, accent, 0.42 if self.dark else 0.30),
            )
            self.cards[sport] = found
        return found


@cache
def _sport_pixmap(sport: str, size: float, ratio: float) -> QPixmap:
    return _render(size, ratio, lambda painter, rect: draw_sport(painter, rect, sport))


@cache
def _badge_pixmap(provider: str, size: float, ratio: float, font_key: str) -> QPixmap:
    font = QFont()
    font.fromString(font_key)
    return _render(size, ratio, lambda painter, rect: draw_badge(painter, rect, provider, font))


@cache
def _marker_pixmap(width: float, height: float, ratio: float) -> QPixmap:
    pixmap = QPixmap(round(width * ratio), round(height * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    draw_review_marker(painter, QRectF(0, 0, width, height), QColor(REVIEW_COLOR))
    painter.end()
    return pixmap


def _render(size: float, ratio: float, draw: Callable[[QPainter, QRectF], None]) -> QPixmap:
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    draw(painter, QRectF(0, 0, size, size))
    painter.end()
    return pixmap


class CalendarDelegate(QStyledItemDelegate):
    """Paints a day: its number, then one card per activity; the week column: its totals.

    Painting runs on every month switch and every repaint, so everything that does not depend
    on the cell (fonts, metrics, colours, pictograms) is computed once and reused.
    """

    PAD = 4.0
    BADGE = 11.0
    DOT = 5.0
    ICON = 15.0

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._styles: dict[tuple[str, int], _Style] = {}

    def style_for(self, option: QStyleOptionViewItem) -> _Style:
        font: QFont = option.font
        palette: QPalette = option.palette
        key = (font.key(), palette.cacheKey())
        style = self._styles.get(key)
        if style is None:
            if len(self._styles) > 8:
                self._styles.clear()
            style = self._styles[key] = _Style.build(QFont(font), QPalette(palette))
        return style

    def card_rects(
        self, rect: QRectF, count: int, option: QStyleOptionViewItem
    ) -> tuple[list[QRectF], int]:
        """Where each activity card goes in a day cell, and how many did not fit."""
        style = self.style_for(option)
        top = rect.top() + self.PAD + style.line + 2
        height = style.line + style.small_line + 4
        available = rect.bottom() - self.PAD - top
        fits = max(0, int((available + 2) // (height + 2)))
        if 0 < fits < count:
            fits = max(0, int((available - style.small_line + 2) // (height + 2)))
        rects = [
            QRectF(
                rect.left() + self.PAD, top + i * (height + 2), rect.width() - 2 * self.PAD, height
            )
            for i in range(min(count, fits))
        ]
        return rects, count - len(rects)

    def entry_at(
        self, rect: QRectF, index: QModelIndex, pos: QPointF, option: QStyleOptionViewItem
    ) -> int | None:
        entries: tuple[CalendarEntry, ...] = index.data(EntriesRole) or ()
        rects, _hidden = self.card_rects(rect, len(entries), option)
        for entry, card in zip(entries, rects, strict=False):
            if card.contains(pos):
                return entry.activity_id
        return None

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        model = index.model()
        if not isinstance(model, CalendarModel):
            return
        style = self.style_for(option)
        rect = QRectF(option.rect)
        painter.save()
        if index.column() == WEEK_COLUMN:
            self._paint_week(painter, rect, style, model.week_totals(index.row()), model.units)
            painter.restore()
            return
        cell = model.cell(index)
        if cell is None:
            painter.restore()
            return
        state = option.state
        focused = bool(
            state & QStyle.StateFlag.State_HasFocus or state & QStyle.StateFlag.State_Selected
        )
        if focused:
            painter.fillRect(rect, style.focus_fill if cell.in_month else style.focus_fill_out)
        else:
            painter.fillRect(rect, style.base if cell.in_month else style.alternate)
        painter.setPen(QPen(style.grid, 1))
        painter.drawLine(rect.topRight(), rect.bottomRight())
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        number_rect = QRectF(
            rect.left() + self.PAD, rect.top() + self.PAD, style.line + 6, style.line
        )
        if cell.day == model.today:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(style.highlight)
            painter.drawRoundedRect(number_rect, style.line / 2, style.line / 2)
            painter.setPen(style.highlighted_text)
            painter.setFont(style.bold)
        else:
            painter.setPen(style.text if cell.in_month else style.faint)
            painter.setFont(style.font)
        painter.drawText(number_rect, Qt.AlignmentFlag.AlignCenter, str(cell.day.day))
        if cell.in_month and cell.entries:
            ratio = painter.device().devicePixelRatioF() if painter.device() else 1.0
            rects, hidden = self.card_rects(rect, len(cell.entries), option)
            selected = model.selected_activity
            for entry, card in zip(cell.entries, rects, strict=False):
                self._paint_card(
                    painter, card, entry, entry.activity_id == selected, style, model.units, ratio
                )
            if hidden:
                painter.setFont(style.small)
                painter.setPen(style.muted)
                bottom = QRectF(
                    rect.left() + self.PAD,
                    rect.bottom() - self.PAD - style.line,
                    rect.width() - 2 * self.PAD,
                    style.line,
                )
                painter.drawText(
                    bottom,
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                    f"+{hidden} more",
                )
        painter.restore()

    def _paint_card(
        self,
        painter: QPainter,
        card: QRectF,
        entry: "CalendarEntry",
        selected: bool,
        style: _Style,
        units: UnitSystem,
        ratio: float,
    ) -> None:
        accent, fill, selected_fill = style.card_colors(entry.sport)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(accent, 1.4) if selected else Qt.PenStyle.NoPen)
        painter.setBrush(selected_fill if selected else fill)
        painter.drawRoundedRect(card.adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(accent)
        painter.drawRoundedRect(QRectF(card.left(), card.top(), 3, card.height()), 1.5, 1.5)
        line = style.line
        icon_top = card.top() + (line - self.ICON) / 2 + 2
        painter.drawPixmap(
            QPointF(card.left() + 6, icon_top), _sport_pixmap(entry.sport, self.ICON, ratio)
        )
        icon_right = card.left() + 6 + self.ICON
        right = card.right() - 4
        if entry.needs_review:
            painter.drawPixmap(QPointF(right - 12, card.top() + 3), _marker_pixmap(12, 11, ratio))
            right -= 15
        painter.setFont(style.font)
        painter.setPen(style.text)
        title_rect = QRectF(icon_right + 4, card.top() + 2, right - icon_right - 4, line)
        title = entry.name or entry.sport.replace("_", " ").capitalize()
        title = style.metrics.elidedText(title, Qt.TextElideMode.ElideRight, title_rect.width())
        painter.drawText(
            title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title
        )
        # second line: distance · time, then the provider badges on the right; in a narrow
        # cell the badges shrink to dots and the time gives way to the distance
        painter.setFont(style.small)
        painter.setPen(style.secondary)
        second_top = card.top() + 2 + line
        small_line = style.small_line
        distance = short_distance(entry.distance_m, units)
        duration = short_duration(entry.elapsed_s)
        full = " · ".join(t for t in (distance, duration) if t)
        short = distance or duration
        count = len(entry.providers)
        available = card.width() - 14
        numbers, dots = short, True
        for candidate, as_dots in ((full, False), (full, True), (short, False), (short, True)):
            badges = count * (self.DOT + 1.5 if as_dots else self.BADGE + 2)
            if style.small_metrics.horizontalAdvance(candidate) + badges <= available:
                numbers, dots = candidate, as_dots
                break
        step = self.DOT + 1.5 if dots else self.BADGE + 2
        badges_width = count * step
        numbers_rect = QRectF(
            card.left() + 8, second_top, card.width() - 12 - badges_width, small_line
        )
        numbers = style.small_metrics.elidedText(
            numbers, Qt.TextElideMode.ElideRight, numbers_rect.width()
        )
        painter.drawText(
            numbers_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, numbers
        )
        x = card.right() - 4 - badges_width + 2
        if dots:
            top = second_top + (small_line - self.DOT) / 2
            painter.setPen(Qt.PenStyle.NoPen)
            for provider in entry.providers:
                painter.setBrush(provider_color(provider))
                painter.drawEllipse(QRectF(x, top, self.DOT, self.DOT))
                x += step
        else:
            top = second_top + (small_line - self.BADGE) / 2
            key = style.small_bold.toString()
            for provider in entry.providers:
                painter.drawPixmap(QPointF(x, top), _badge_pixmap(provider, self.BADGE, ratio, key))
                x += step

    def _paint_week(
        self,
        painter: QPainter,
        rect: QRectF,
        style: _Style,
        totals: "Totals | None",
        units: UnitSystem,
    ) -> None:
        painter.fillRect(rect, style.alternate)
        painter.setPen(QPen(style.grid, 1))
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        if not totals or not totals.count:
            return
        lines = [
            (style.bold, style.text, short_distance(totals.distance_m, units) or "—"),
            (style.small, style.secondary, short_duration(totals.elapsed_s)),
            (style.small, style.secondary, f"{totals.count} act."),
        ]
        y = rect.top() + self.PAD + style.line + 2
        for font, color, value in lines:
            painter.setFont(font)
            painter.setPen(color)
            height = style.small_line if font is style.small else style.line
            painter.drawText(
                QRectF(rect.left() + 4, y, rect.width() - 8, height),
                Qt.AlignmentFlag.AlignRight,
                value,
            )
            y += height + 1

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        return QSize(120, 96)

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: AnyIndex,
    ) -> bool:
        if (
            event.type() == QEvent.Type.ToolTip
            and isinstance(index, QModelIndex)
            and index.isValid()
        ):
            activity = self.entry_at(
                QRectF(view.visualRect(index)), index, QPointF(event.pos()), option
            )
            model = index.model()
            if activity is not None and isinstance(model, CalendarModel):
                entry = model.entry(activity)
                if entry is not None:
                    QToolTip.showText(event.globalPos(), _entry_tooltip(entry, model.units), view)
                    return True
        return super().helpEvent(event, view, option, index)


def _entry_tooltip(entry: "CalendarEntry", units: UnitSystem) -> str:
    lines = [entry.name or entry.sport.replace("_", " ").capitalize()]
    if entry.start_local:
        lines.append(f"{entry.start_local:%H:%M} local time")
    nums = [
        format_distance(entry.distance_m, units) if entry.distance_m else "",
        format_duration(entry.elapsed_s) if entry.elapsed_s else "",
    ]
    lines.append(" · ".join(n for n in nums if n))
    lines.append("On: " + ", ".join(provider_label(p) for p in entry.providers))
    if entry.needs_review:
        lines.append("Needs review")
    return "\n".join(line for line in lines if line)


class CalendarView(QTableView):
    """Days as cells; click an activity card to select it; PgUp/PgDown/Home switch months."""

    activity_selected = Signal(int)
    day_selected = Signal(object)  # date
    month_step = Signal(int)  # -1 / +1
    today_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.calendar_delegate = CalendarDelegate(self)
        self.setItemDelegate(self.calendar_delegate)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setMouseTracking(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verticalHeader().hide()
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setMinimumSectionSize(64)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFrameShape(QTableView.Shape.NoFrame)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Month calendar")

    def setModel(self, model: Any) -> None:
        super().setModel(model)
        header = self.horizontalHeader()
        if model is not None:
            header.setSectionResizeMode(WEEK_COLUMN, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(WEEK_COLUMN, 64)
            self.selectionModel().currentChanged.connect(self._current_changed)

    def calendar_model(self) -> CalendarModel:
        model = self.model()
        assert isinstance(model, CalendarModel)
        return model

    def activity_at(self, pos: QPointF) -> int | None:
        index = self.indexAt(pos.toPoint())
        if not index.isValid() or index.column() == WEEK_COLUMN:
            return None
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        return self.calendar_delegate.entry_at(QRectF(self.visualRect(index)), index, pos, option)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        super().mousePressEvent(event)
        activity = self.activity_at(event.position())
        if activity is not None:
            self.select_activity(activity)

    def select_activity(self, activity_id: int) -> None:
        model = self.calendar_model()
        model.set_selected_activity(activity_id)
        index = model.index_of_activity(activity_id)
        if index.isValid() and self.currentIndex() != index:
            self.blockSignals(True)
            self.setCurrentIndex(index)
            self.blockSignals(False)
        self.activity_selected.emit(activity_id)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self.signalsBlocked() or not current.isValid():
            return
        model = self.calendar_model()
        day = current.data(DateRole)
        if day is None:
            return
        self.day_selected.emit(day)
        entries = current.data(EntriesRole) or ()
        if entries and model.selected_activity not in {e.activity_id for e in entries}:
            self.select_activity(entries[0].activity_id)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_PageUp:
            self.month_step.emit(-1)
        elif key == Qt.Key.Key_PageDown:
            self.month_step.emit(1)
        elif key == Qt.Key.Key_Home and not event.modifiers():
            self.today_requested.emit()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._cycle_within_day()
        else:
            super().keyPressEvent(event)

    def _cycle_within_day(self) -> None:
        """Enter moves the selection to the day's next activity."""
        entries = self.currentIndex().data(EntriesRole) or ()
        if not entries:
            return
        ids = [e.activity_id for e in entries]
        current = self.calendar_model().selected_activity
        nxt = ids[(ids.index(current) + 1) % len(ids)] if current in ids else ids[0]
        self.select_activity(nxt)


class CalendarPanel(QWidget):
    """The calendar with its header: month title, navigation, month and year totals."""

    previous_requested = Signal()
    next_requested = Signal()
    today_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = CalendarModel(self)
        self.view = CalendarView(self)
        self.view.setModel(self.model)
        self.title = QLabel("")
        title_font = QFont(self.title.font())
        title_font.setPointSizeF(title_font.pointSizeF() * 1.6)
        title_font.setBold(True)
        self.title.setFont(title_font)
        self.title.setAccessibleName("Month")
        self.month_totals = QLabel("")
        self.year_totals = QLabel("")
        for label in (self.month_totals, self.year_totals):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.loading = QLabel("")
        self.previous_button = self._nav_button("‹", "Previous month (Page Up)")
        self.today_button = self._nav_button("Today", "This month (Ctrl+T)")
        self.next_button = self._nav_button("›", "Next month (Page Down)")
        self.previous_button.clicked.connect(self.previous_requested)
        self.next_button.clicked.connect(self.next_requested)
        self.today_button.clicked.connect(self.today_requested)
        self.view.month_step.connect(
            lambda step: (self.next_requested if step > 0 else self.previous_requested).emit()
        )
        self.view.today_requested.connect(self.today_requested)

        header = QHBoxLayout()
        header.setContentsMargins(12, 10, 12, 6)
        header.setSpacing(6)
        header.addWidget(self.previous_button)
        header.addWidget(self.today_button)
        header.addWidget(self.next_button)
        header.addSpacing(10)
        header.addWidget(self.title)
        header.addSpacing(8)
        header.addWidget(self.loading)
        header.addStretch(1)
        totals = QVBoxLayout()
        totals.setSpacing(0)
        totals.addWidget(self.month_totals, alignment=Qt.AlignmentFlag.AlignRight)
        totals.addWidget(self.year_totals, alignment=Qt.AlignmentFlag.AlignRight)
        header.addLayout(totals)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.view, 1)

    def _nav_button(self, text: str, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        button.setAutoRaise(False)
        button.setMinimumWidth(34 if len(text) == 1 else 56)
        if len(text) == 1:
            f = QFont(button.font())
            f.setPointSizeF(f.pointSizeF() * 1.3)
            button.setFont(f)
        return button

    def set_title(self, year: int, month: int) -> None:
        locale = QLocale()
        self.title.setText(
            f"{locale.standaloneMonthName(month, QLocale.FormatType.LongFormat)} {year}"
        )

    def show_month(self, data: "MonthData", units: UnitSystem) -> None:
        self.set_title(data.month.year, data.month.month)
        self.model.set_month(data, units)
        self.month_totals.setText(totals_text(data.view.totals, units))
        self.year_totals.setText(f"{data.month.year}: {totals_text(data.year, units)}")
        self.loading.setText("")
