"""Connecting a provider account from the window, the way each provider allows it.

intervals.icu takes an API key; Strava and a RideWithGPS API client authorise in the browser
(the dialog shows the consent page's address and waits, cancellably, for the redirect back);
a RideWithGPS account trades its password for a token; Garmin Connect signs in with e-mail and
password and may ask for a verification code half-way. Every step runs on a worker through
`ui.backend` (the same `tracekit.providers.registry` and `tracekit.garmin_login` calls as
`tracekit connect`); the dialog only collects what the user types and shows where it stands.
Passwords are handed to the sign-in and never kept.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum, auto
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from tracekit.providers import ridewithgps, strava
from tracekit.providers.intervalsicu import SETTINGS_URL as INTERVALS_SETTINGS_URL
from tracekit.providers.names import ProviderName
from ui import backend
from ui.theme import ERROR_COLOR
from ui.workers import TaskContext, TaskHandle, TaskRunner

if TYPE_CHECKING:
    from tracekit.store.engine import Database

GARMIN_SIGN_IN_URL = "https://connect.garmin.com/signin"


class Flow(Enum):
    INTERVALS_KEY = auto()
    OWN_APP_IN_BROWSER = auto()  # Strava, or a RideWithGPS API client
    RIDEWITHGPS_ACCOUNT = auto()
    GARMIN_ACCOUNT = auto()


@dataclass(frozen=True, slots=True)
class Entry:
    """One text box of a connect form."""

    key: str
    label: str
    secret: bool = False
    optional: bool = False
    placeholder: str = ""


@dataclass(frozen=True, slots=True)
class Way:
    """One way to connect a provider: what to explain, what to ask, and which flow runs."""

    flow: Flow
    title: str
    intro: str  # rich text; links open in the system browser
    entries: tuple[Entry, ...]
    busy: str  # what the dialog says while the flow runs


def _link(url: str) -> str:
    return f'<a href="{url}">{url.removeprefix("https://")}</a>'


CLIENT_ID = Entry("client_id", "Client ID")
CLIENT_SECRET = Entry("client_secret", "Client secret", secret=True)
EMAIL = Entry("email", "E-mail")
PASSWORD = Entry("password", "Password", secret=True)

WAYS: dict[ProviderName, tuple[Way, ...]] = {
    ProviderName.INTERVALSICU: (
        Way(
            Flow.INTERVALS_KEY,
            "API key",
            "Copy your API key from the bottom of "
            f"{_link(INTERVALS_SETTINGS_URL)} (Developer Settings). It is checked with one "
            "request and kept only in the system keyring.",
            (
                Entry("api_key", "API key", secret=True),
                Entry("athlete_id", "Athlete ID", optional=True, placeholder="the key's own"),
            ),
            "Checking the key with intervals.icu…",
        ),
    ),
    ProviderName.STRAVA: (
        Way(
            Flow.OWN_APP_IN_BROWSER,
            "Your API application",
            "Strava lets personal apps in through an API application of your own: create one "
            f"at {_link(strava.SETTINGS_URL)} with <b>127.0.0.1</b> as its Authorization "
            f"Callback Domain, then copy its client ID and secret here. "
            f"{strava.SUBSCRIPTION_NOTE} Your browser then asks you to allow Tracekit.",
            (CLIENT_ID, CLIENT_SECRET),
            "Waiting for Strava…",
        ),
    ),
    ProviderName.RIDEWITHGPS: (
        Way(
            Flow.RIDEWITHGPS_ACCOUNT,
            "Account and API key",
            f"Find your API key at {_link(ridewithgps.SETTINGS_URL)}. Your password is used "
            "once, to sign in, and is never kept; the sign-in's token goes to the system "
            "keyring.",
            (Entry("api_key", "API key", secret=True), EMAIL, PASSWORD),
            "Signing in to RideWithGPS…",
        ),
        Way(
            Flow.OWN_APP_IN_BROWSER,
            "Your API client (browser)",
            f"Use an API client of your own from {_link(ridewithgps.SETTINGS_URL)}: your "
            "browser asks you to allow Tracekit, and the token goes to the system keyring.",
            (CLIENT_ID, CLIENT_SECRET),
            "Waiting for RideWithGPS…",
        ),
    ),
    ProviderName.GARMIN: (
        Way(
            Flow.GARMIN_ACCOUNT,
            "Account",
            "Sign in with your Garmin Connect account "
            f"({_link(GARMIN_SIGN_IN_URL)}). The password is used once and never kept; "
            "Tracekit keeps only the sign-in's tokens, in the system keyring. Garmin may send "
            "you a verification code, and blocks sign-ins for about an hour after too many "
            "attempts.",
            (EMAIL, PASSWORD),
            "Signing in to Garmin Connect (this can take a minute)…",
        ),
    ),
}
CONNECTABLE = frozenset(WAYS)

FORM_PAGE, BROWSER_PAGE, CODE_PAGE = 0, 1, 2


class ConnectDialog(QDialog):
    """Connect one provider; `connected` carries the provider's own wording of the result."""

    connected = Signal(str)
    url_ready = Signal(str)  # the consent page's address, emitted from the worker thread

    def __init__(
        self,
        provider: ProviderName,
        db: "Database",
        runner: TaskRunner,
        parent: QWidget | None = None,
        *,
        open_url: Callable[[str], object] | None = None,
        garmin_factory: Callable[..., Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self.provider = provider
        self.db = db
        self.runner = runner
        self.open_url = open_url or (lambda url: QDesktopServices.openUrl(QUrl(url)))
        self.garmin_factory = garmin_factory
        self.ways = WAYS[provider]
        self.handle: TaskHandle | None = None
        self.challenge: object | None = None
        self._closing = False
        self.setWindowTitle(f"Connect {provider.label}")
        self.setMinimumWidth(500)
        self.url_ready.connect(self._show_browser_step)

        self.pages = QStackedWidget()
        self.form_page = self._form_page()
        self.pages.addWidget(self.form_page)
        self.pages.addWidget(self._browser_page())
        self.pages.addWidget(self._code_page())

        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(8)
        self.busy.hide()
        self.error = QLabel("")
        self.error.setObjectName("connect-error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {ERROR_COLOR};")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.connect_button = self.buttons.addButton(
            "Connect", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.accepted.connect(self._go)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.busy)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        # Only once the box is in the dialog: set earlier, Qt makes Cancel the Enter button.
        self.connect_button.setDefault(True)
        self._update_button()

    # ------------------------------------------------------------------ pages
    def _form_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.way_choice = QComboBox()
        self.way_choice.setAccessibleName("How to connect")
        for way in self.ways:
            self.way_choice.addItem(way.title)
        self.way_choice.setVisible(len(self.ways) > 1)
        layout.addWidget(self.way_choice)
        self.forms = QStackedWidget()
        self.inputs: list[dict[str, QLineEdit]] = []
        for way in self.ways:
            form_widget = QWidget()
            form = QFormLayout(form_widget)
            intro = QLabel(way.intro)
            intro.setWordWrap(True)
            intro.setOpenExternalLinks(True)
            intro.setTextFormat(Qt.TextFormat.RichText)
            form.addRow(intro)
            boxes: dict[str, QLineEdit] = {}
            for entry in way.entries:
                box = QLineEdit()
                box.setObjectName(entry.key)
                box.setAccessibleName(entry.label)
                box.setPlaceholderText(entry.placeholder or ("" if entry.optional else "required"))
                if entry.secret:
                    box.setEchoMode(QLineEdit.EchoMode.Password)
                box.textChanged.connect(self._update_button)
                boxes[entry.key] = box
                form.addRow(entry.label, box)
            self.inputs.append(boxes)
            self.forms.addWidget(form_widget)
        self.way_choice.currentIndexChanged.connect(self._choose_way)
        layout.addWidget(self.forms, 1)
        return page

    def _browser_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        explain = QLabel(
            f"Your browser shows {self.provider.label}'s page asking you to allow Tracekit. "
            "Approve it there; this window carries on by itself. Cancel stops waiting."
        )
        explain.setWordWrap(True)
        layout.addWidget(explain)
        row = QHBoxLayout()
        self.consent_link = QLabel("")
        self.consent_link.setOpenExternalLinks(True)
        self.consent_link.setTextFormat(Qt.TextFormat.RichText)
        self.copy_button = QPushButton("Copy address")
        self.copy_button.clicked.connect(self._copy_address)
        row.addWidget(self.consent_link, 1)
        row.addWidget(self.copy_button)
        layout.addLayout(row)
        layout.addStretch(1)
        self.consent_url = ""
        return page

    def _code_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.code_note = QLabel("")
        self.code_note.setWordWrap(True)
        form.addRow(self.code_note)
        self.code = QLineEdit()
        self.code.setObjectName("code")
        self.code.setAccessibleName("Verification code")
        self.code.setPlaceholderText("the code Garmin sent you")
        self.code.textChanged.connect(self._update_button)
        form.addRow("Code", self.code)
        return page

    # ------------------------------------------------------------------ state
    @property
    def way(self) -> Way:
        return self.ways[self.way_choice.currentIndex()]

    def values(self) -> dict[str, str]:
        boxes = self.inputs[self.way_choice.currentIndex()]
        return {key: box.text().strip() for key, box in boxes.items()}

    def _choose_way(self, index: int) -> None:
        self.forms.setCurrentIndex(index)
        self.error.clear()
        self._update_button()

    def _ready(self) -> bool:
        if self.pages.currentIndex() == CODE_PAGE:
            return bool(self.code.text().strip())
        values = self.values()
        return all(values[e.key] for e in self.way.entries if not e.optional)

    def _update_button(self) -> None:
        running = self.handle is not None
        self.connect_button.setEnabled(not running and self._ready())
        self.connect_button.setText(
            "Verify" if self.pages.currentIndex() == CODE_PAGE else "Connect"
        )

    def _set_busy(self, text: str) -> None:
        self.status.setText(text)
        self.busy.setVisible(bool(text))
        self.form_page.setEnabled(not text)
        self.code.setEnabled(not text)

    # ------------------------------------------------------------------ running
    def _go(self) -> None:
        if not self._ready() or self.handle is not None:
            return
        if self.pages.currentIndex() == CODE_PAGE:
            challenge, code = self.challenge, self.code.text().strip()
            self._run(
                lambda _ctx: backend.garmin_finish(challenge, code),
                "Checking the code with Garmin Connect…",
            )
            return
        self._run(self._task(self.way.flow, self.values()), self.way.busy)

    def _task(self, flow: Flow, v: Mapping[str, str]) -> Callable[[TaskContext], object]:
        db, on_url, factory = self.db, self.url_ready.emit, self.garmin_factory
        match flow:
            case Flow.INTERVALS_KEY:
                return lambda _ctx: backend.connect_intervalsicu(db, v["api_key"], v["athlete_id"])
            case Flow.OWN_APP_IN_BROWSER:
                provider = self.provider
                return lambda ctx: backend.connect_in_browser(
                    db, provider, v["client_id"], v["client_secret"], on_url, ctx
                )
            case Flow.RIDEWITHGPS_ACCOUNT:
                return lambda _ctx: backend.connect_ridewithgps_account(
                    db, v["api_key"], v["email"], v["password"]
                )
            case Flow.GARMIN_ACCOUNT:
                return lambda _ctx: backend.garmin_start(db, v["email"], v["password"], factory)

    def _run(self, fn: Callable[[TaskContext], object], busy: str) -> None:
        self.error.clear()
        self._set_busy(busy)
        self.handle = self.runner.start(
            fn,
            name="connect",
            on_result=self._result,
            on_error=self._failed,
            on_finished=self._finished,
        )
        self._update_button()

    def _show_browser_step(self, url: str) -> None:
        self.consent_url = url
        self.consent_link.setText(f'If no browser opened: <a href="{url}">open the page</a>')
        self.pages.setCurrentIndex(BROWSER_PAGE)
        self.open_url(url)

    def _copy_address(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None and self.consent_url:
            clipboard.setText(self.consent_url)

    def _result(self, outcome: "str | backend.GarminStep") -> None:
        if isinstance(outcome, str):
            self._succeeded(outcome)
            return
        if outcome.connected:
            self._succeeded(outcome.message)
            return
        asked_again = self.pages.currentIndex() == CODE_PAGE
        self.challenge = outcome.challenge
        self.pages.setCurrentIndex(CODE_PAGE)
        if asked_again:  # the code was refused: the same sign-in takes another
            self.error.setText(outcome.message)
            self.code.clear()
        else:
            self.code_note.setText(outcome.message)
        self.code.setFocus()

    def _succeeded(self, message: str) -> None:
        self._closing = False
        for boxes in self.inputs:
            for box in boxes.values():
                if box.echoMode() is QLineEdit.EchoMode.Password:
                    box.clear()
        self.challenge = None
        self.connected.emit(message)
        self.accept()

    def _failed(self, message: str) -> None:
        if self._closing:
            return  # the user cancelled: the flow's "cancelled" error needs no words
        self.challenge = None
        self.pages.setCurrentIndex(FORM_PAGE)
        self.error.setText(message)

    def _finished(self) -> None:
        self.handle = None
        self._set_busy("")
        self._update_button()
        if self._closing:
            self._closing = False
            super().reject()

    def reject(self) -> None:
        """Cancel: a running step is asked to stop first (a browser wait stops at once; a
        sign-in already sent finishes, and if it connected, that is reported)."""
        if self.handle is not None:
            self._closing = True
            self.handle.cancel()
            self.status.setText("Cancelling…")
            self.buttons.setEnabled(False)
            return
        self.challenge = None
        super().reject()
