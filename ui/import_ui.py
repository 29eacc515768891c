"""Importing from the window: what a drop carries, the drop overlay, the progress strip in the
status bar, the summary at the end (imported, duplicates, failed with reasons), and the
welcoming empty state."""

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.icons import app_icon
from ui.theme import ERROR_COLOR, OK_COLOR, mix

if TYPE_CHECKING:
    from ui.backend import ImportOutcome

MAX_ROWS = 300  # per section; the rest are in the copied report
FILE_FILTER = "Activity files (*.fit *.FIT *.gpx *.GPX *.tcx *.TCX *.zip *.gz);;All files (*)"


def dropped_paths(mime: QMimeData) -> list[Path]:
    """The local files and folders in a drop (URLs that are not local files are ignored)."""
    if not mime.hasUrls():
        return []
    return [
        Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile() and url.toLocalFile()
    ]


class DropOverlay(QWidget):
    """Shown over the window while files are dragged over it."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        highlight = palette.color(QPalette.ColorRole.Highlight)
        base = QColor(palette.color(QPalette.ColorRole.Base))
        base.setAlphaF(0.86)
        painter.fillRect(self.rect(), base)
        box = QRectF(self.rect()).adjusted(24, 24, -24, -24)
        pen = QPen(highlight, 3, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(box, 18, 18)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(highlight)
        painter.drawText(
            box,
            Qt.AlignmentFlag.AlignCenter,
            "Drop to import\nFIT · GPX · TCX · folders · zip exports",
        )
        painter.end()


class ImportStrip(QWidget):
    """Progress of the running import, with Cancel, for the status bar."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("Importing…")
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setMaximumHeight(14)
        self.bar.setFormat("%v / %m")
        self.cancel = QToolButton()
        self.cancel.setText("Cancel")
        self.cancel.setAccessibleName("Cancel import")
        self.cancel.clicked.connect(self.cancel_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel)
        self.hide()

    def start(self, text: str) -> None:
        self.label.setText(text)
        self.bar.setRange(0, 0)
        self.cancel.setEnabled(True)
        self.show()

    def progress(self, done: int, total: int, name: str) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.label.setText(f"Importing {Path(name).name}" if name else "Importing…")

    def cancelling(self) -> None:
        self.cancel.setEnabled(False)
        self.label.setText("Cancelling… (files already stored are kept)")


class ImportSummary(QDialog):
    """The end of an import: counts, and every failed file with its reason."""

    show_newest = Signal()

    def __init__(self, outcome: "ImportOutcome", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.outcome = outcome
        self.setWindowTitle("Import finished" if not outcome.cancelled else "Import cancelled")
        self.setMinimumWidth(520)
        failed = len(outcome.failed)
        headline = QLabel(self.headline_text())
        font = QFont(headline.font())
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        headline.setFont(font)
        headline.setWordWrap(True)
        self.headline = headline
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["File", "Result"])
        self.tree.setRootIsDecorated(True)
        self.tree.setAccessibleName("Import results")
        text = self.palette().color(QPalette.ColorRole.Text)
        sections = [
            (
                f"Imported ({outcome.imported})",
                [(f, "imported") for f in outcome.imported_files],
                OK_COLOR,
            ),
            (
                f"Duplicates ({outcome.duplicates})",
                [(f, "already in Tracekit") for f in outcome.duplicate_files],
                None,
            ),
            (f"Failed ({failed})", list(outcome.failed), ERROR_COLOR),
        ]
        for title, rows, color in sections:
            if not rows:
                continue
            shown, rest = rows[:MAX_ROWS], len(rows) - MAX_ROWS
            top = QTreeWidgetItem([title, ""])
            bold = QFont(top.font(0))
            bold.setBold(True)
            top.setFont(0, bold)
            if color:
                top.setForeground(0, mix(QColor(color), text, 0.15))
            top.addChildren(
                [self._child(file, result) for file, result in shown]
                + (
                    [QTreeWidgetItem([f"… and {rest} more (Copy report lists them all)", ""])]
                    if rest > 0
                    else []
                )
            )
            self.tree.addTopLevelItem(top)
            top.setExpanded(color == ERROR_COLOR or len(rows) <= 12)
        self.tree.setColumnWidth(0, 380)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        copy = QPushButton("Copy report")
        copy.setToolTip("Copy every file and its result to the clipboard")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.report_text()))
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.accepted.connect(self.accept)
        if outcome.newest is not None:
            go = QPushButton("Show newest activity")
            go.clicked.connect(self.show_newest)
            go.clicked.connect(self.accept)
            buttons.addButton(go, QDialogButtonBox.ButtonRole.AcceptRole)
        layout = QVBoxLayout(self)
        layout.addWidget(headline)
        layout.addWidget(self.tree, 1)
        layout.addWidget(buttons)

    @staticmethod
    def _child(file: str, result: str) -> QTreeWidgetItem:
        child = QTreeWidgetItem([file, result])
        child.setToolTip(0, file)
        child.setToolTip(1, result)
        return child

    def report_text(self) -> str:
        """The whole report as text: every file, also those the list leaves out."""
        o = self.outcome
        lines = [self.headline_text(), ""]
        lines += [f"imported\t{f}" for f in o.imported_files]
        lines += [f"duplicate\t{f}" for f in o.duplicate_files]
        lines += [f"failed\t{f}\t{reason}" for f, reason in o.failed]
        return "\n".join(lines)

    def headline_text(self) -> str:
        o = self.outcome
        parts = [f"{o.imported} imported", f"{o.duplicates} duplicates", f"{len(o.failed)} failed"]
        prefix = "Import cancelled: " if o.cancelled else ""
        return prefix + ", ".join(parts)

    def lines(self) -> list[str]:
        """Every row as text (what the summary lists)."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top is None:
                continue
            out.append(top.text(0))
            for j in range(top.childCount()):
                child = top.child(j)
                if child is not None:
                    out.append(f"{child.text(0)}: {child.text(1)}")
        return out


class EmptyState(QWidget):
    """What a new user sees: drop files here, connect a provider, or open the demo."""

    import_requested = Signal()
    connect_requested = Signal()
    demo_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(88, 88))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("Welcome to Tracekit")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 2.0)
        font.setBold(True)
        title.setFont(font)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text = QLabel(
            "Your training history from every service, in one calendar on this computer.\n"
            "Drop FIT, GPX or TCX files, whole folders or zip exports anywhere on this window."
        )
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setWordWrap(True)
        self.import_button = QPushButton("Import files…")
        self.connect_button = QPushButton("Connect a provider…")
        self.demo_button = QPushButton("Open the demo")
        self.import_button.setDefault(True)
        self.import_button.clicked.connect(self.import_requested)
        self.connect_button.clicked.connect(self.connect_requested)
        self.demo_button.clicked.connect(self.demo_requested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.import_button, self.connect_button, self.demo_button):
            b.setMinimumHeight(34)
            b.setMinimumWidth(170)
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.location = QLabel("")
        self.location.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.location.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        muted = mix(
            self.palette().color(QPalette.ColorRole.Text),
            self.palette().color(QPalette.ColorRole.Window),
            0.45,
        )
        self.location.setStyleSheet(f"color: {muted.name()};")
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(icon)
        layout.addSpacing(8)
        layout.addWidget(title)
        layout.addSpacing(6)
        layout.addWidget(text)
        layout.addSpacing(18)
        layout.addLayout(buttons)
        layout.addSpacing(22)
        layout.addWidget(self.location)
        layout.addStretch(3)

    def set_location(self, location: str) -> None:
        self.location.setText(f"Database: {location}")
