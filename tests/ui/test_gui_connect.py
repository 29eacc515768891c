"""Connecting providers from the window: each provider's connect dialog, end to end against
the fake services (and, for Garmin's sign-in, the stand-in library), with secrets kept only in
an in-memory keyring."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from garminconnect import GarminConnectTooManyRequestsError
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from tests.fakes.browser import Browser
from tests.fakes.garmin_library import CODE, Garmin
from tests.fakes.intervals_server import IntervalsFake
from tests.fakes.keyring import MemoryKeyring, installed_memory_keyring, no_system_keyring
from tests.fakes.rwgps_server import USER_ID, RideWithGpsFake
from tests.fakes.strava_server import StravaFake
from tracekit.credentials import SERVICE
from tracekit.providers.connections import record_connection
from tracekit.providers.names import ProviderName
from tracekit.store.engine import Database
from tracekit.store.models import Setting
from ui.connect_dialog import BROWSER_PAGE, CODE_PAGE, FORM_PAGE, ConnectDialog
from ui.main_window import MainWindow
from ui.settings_dialog import SettingsDialog
from ui.sheet_connect_dialog import SheetConnectDialog
from ui.workers import TaskRunner

ICU, STRAVA = ProviderName.INTERVALSICU, ProviderName.STRAVA
RWGPS, GARMIN = ProviderName.RIDEWITHGPS, ProviderName.GARMIN
ICU_KEY = "intervals-test-key-0001"
STRAVA_CLIENT, STRAVA_SECRET = "4242", "strava-app-secret-0001"
RWGPS_KEY, RWGPS_CLIENT, RWGPS_SECRET = "rwgps-api-key-0001", "rwgps-client", "rwgps-secret"
EMAIL, PASSWORD = "ada@example.org", "correct horse battery staple 7!"
DONE_MS = 20_000


@pytest.fixture
def keyring_() -> Iterator[MemoryKeyring]:
    with installed_memory_keyring() as ring:
        yield ring


@pytest.fixture
def intervals(monkeypatch: pytest.MonkeyPatch) -> Iterator[IntervalsFake]:
    with IntervalsFake() as server:
        monkeypatch.setenv("TRACEKIT_INTERVALSICU_URL", server.url)
        server.seed(api_keys=[ICU_KEY], athlete_id="i4242")
        yield server


@pytest.fixture
def strava_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[StravaFake]:
    with StravaFake() as server:
        monkeypatch.setenv("TRACEKIT_STRAVA_URL", server.url)
        server.seed(apps={STRAVA_CLIENT: STRAVA_SECRET})
        yield server


@pytest.fixture
def rwgps_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[RideWithGpsFake]:
    with RideWithGpsFake() as server:
        monkeypatch.setenv("TRACEKIT_RIDEWITHGPS_URL", server.url)
        server.seed(
            api_keys=[RWGPS_KEY],
            users=[{"id": USER_ID, "email": EMAIL, "password": PASSWORD, "name": "Ana"}],
            clients={RWGPS_CLIENT: RWGPS_SECRET},
        )
        yield server


type DialogFactory = Callable[..., ConnectDialog]


@pytest.fixture
def dialog_for(qtbot: QtBot) -> Iterator[DialogFactory]:
    owner = QWidget()
    qtbot.addWidget(owner)
    runner = TaskRunner(parent=owner)

    def make(provider: ProviderName, db: Database, **options: Any) -> ConnectDialog:
        dialog = ConnectDialog(provider, db, runner, owner, **options)
        dialog.open()
        return dialog

    yield make
    runner.cancel_all()
    runner.wait()


def fill(dialog: ConnectDialog, **values: str) -> None:
    for key, value in values.items():
        box = dialog.form_page.findChildren(QLineEdit, key)
        visible = [b for b in box if b.isVisibleTo(dialog)]
        assert len(visible) == 1, key
        visible[0].setText(value)


def connection(db: Database, provider: ProviderName) -> dict[str, Any] | None:
    with db.session() as session:
        row = session.get(Setting, f"provider.{provider.value}")
        return dict(row.value) if row is not None else None


def failed(qtbot: QtBot, dialog: ConnectDialog) -> str:
    qtbot.waitUntil(lambda: bool(dialog.error.text()) and dialog.handle is None, timeout=DONE_MS)
    return dialog.error.text()


def test_an_intervals_key_is_checked_and_kept_only_in_the_keyring(
    qtbot: QtBot,
    db: Database,
    keyring_: MemoryKeyring,
    intervals: IntervalsFake,
    dialog_for: DialogFactory,
) -> None:
    dialog = dialog_for(ICU, db)
    assert not dialog.connect_button.isEnabled()  # nothing typed yet
    fill(dialog, api_key=ICU_KEY)
    assert dialog.connect_button.isEnabled()  # the athlete id may stay empty

    key_box = dialog.form_page.findChild(QLineEdit, "api_key")
    assert key_box is not None

    with qtbot.waitSignal(dialog.connected, timeout=DONE_MS) as connected:
        qtbot.keyClick(key_box, Qt.Key.Key_Return)  # Enter connects

    assert connected.args == ["Connected to intervals.icu."]
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert keyring_.entries == {(SERVICE, "intervalsicu:api_key"): ICU_KEY}
    assert connection(db, ICU) == {"auth": "api_key", "athlete_id": "0"}
    assert ICU_KEY.encode() not in Path(db.url.removeprefix("sqlite:///")).read_bytes()


def test_a_refused_key_is_explained_the_dialog_stays_and_nothing_is_kept(
    qtbot: QtBot,
    db: Database,
    keyring_: MemoryKeyring,
    intervals: IntervalsFake,
    dialog_for: DialogFactory,
) -> None:
    dialog = dialog_for(ICU, db)
    fill(dialog, api_key="not-the-key")
    dialog.connect_button.click()

    assert "refused this API key" in failed(qtbot, dialog)
    assert dialog.isVisible() and dialog.pages.currentIndex() == FORM_PAGE
    assert dialog.connect_button.isEnabled()  # try again with the right key
    assert keyring_.entries == {} and connection(db, ICU) is None


def test_without_a_system_keyring_the_dialog_says_how_to_get_one_and_asks_nobody(
    qtbot: QtBot, db: Database, intervals: IntervalsFake, dialog_for: DialogFactory
) -> None:
    dialog = dialog_for(ICU, db)
    fill(dialog, api_key=ICU_KEY)
    with no_system_keyring():
        dialog.connect_button.click()
        message = failed(qtbot, dialog)
    assert "only in your system keyring" in message
    assert intervals.requests() == [] and connection(db, ICU) is None


def test_strava_opens_the_consent_page_and_connects_when_the_browser_comes_back(
    qtbot: QtBot,
    db: Database,
    keyring_: MemoryKeyring,
    strava_fake: StravaFake,
    dialog_for: DialogFactory,
) -> None:
    browser = Browser()
    dialog = dialog_for(STRAVA, db, open_url=browser.open_in_background)
    assert "127.0.0.1" in dialog.way.intro and "subscription" in dialog.way.intro
    fill(dialog, client_id=STRAVA_CLIENT, client_secret=STRAVA_SECRET)

    with qtbot.waitSignal(dialog.connected, timeout=DONE_MS) as connected:
        dialog.connect_button.click()

    assert connected.args[0].startswith("Connected to Strava as athlete ")
    assert browser.opened[0].startswith(f"{strava_fake.url}/oauth/authorize?")
    assert dialog.consent_url == browser.opened[0]  # shown too, for when no browser opens
    kept = json.loads(keyring_.entries[(SERVICE, "strava:oauth")])
    assert kept["client_secret"] == STRAVA_SECRET and kept["access_token"]
    assert connection(db, STRAVA) is not None


def test_cancel_while_waiting_for_the_browser_stops_listening_and_keeps_nothing(
    qtbot: QtBot,
    db: Database,
    keyring_: MemoryKeyring,
    strava_fake: StravaFake,
    dialog_for: DialogFactory,
) -> None:
    opened: list[str] = []  # the user never approves in the browser
    dialog = dialog_for(STRAVA, db, open_url=opened.append)
    fill(dialog, client_id=STRAVA_CLIENT, client_secret=STRAVA_SECRET)
    dialog.connect_button.click()
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == BROWSER_PAGE, timeout=DONE_MS)
    assert opened == [dialog.consent_url]

    qtbot.keyClick(dialog, Qt.Key.Key_Escape)

    qtbot.waitUntil(lambda: not dialog.isVisible() and dialog.handle is None, timeout=DONE_MS)
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert keyring_.entries == {} and connection(db, STRAVA) is None
    assert strava_fake.requests() == []  # Strava was never asked for a token
    redirect = parse_qs(urlsplit(opened[0]).query)["redirect_uri"][0]
    with pytest.raises(httpx.ConnectError):  # nothing listens for the redirect any more
        httpx.get(redirect, timeout=5)


def test_declining_on_strava_says_so_and_keeps_nothing(
    qtbot: QtBot,
    db: Database,
    keyring_: MemoryKeyring,
    strava_fake: StravaFake,
    dialog_for: DialogFactory,
) -> None:
    strava_fake.seed(authorize="deny")
    dialog = dialog_for(STRAVA, db, open_url=Browser().open_in_background)
    fill(dialog, client_id=STRAVA_CLIENT, client_secret=STRAVA_SECRET)
    dialog.connect_button.click()

    assert "declined" in failed(qtbot, dialog)
    assert dialog.pages.currentIndex() == FORM_PAGE
    assert keyring_.entries == {} and connection(db, STRAVA) is None


def test_ridewithgps_signs_in_with_the_password_without_keeping_it(
    qtbot: QtBot,
    db: Database,
    keyring_: MemoryKeyring,
    rwgps_fake: RideWithGpsFake,
    dialog_for: DialogFactory,
) -> None:
    dialog = dialog_for(RWGPS, db)
    assert dialog.way_choice.isVisibleTo(dialog)  # account, or an API client of one's own
    fill(dialog, api_key=RWGPS_KEY, email=EMAIL, password=PASSWORD)

    with qtbot.waitSignal(dialog.connected, timeout=DONE_MS) as connected:
        dialog.connect_button.click()

    assert connected.args == [f"Connected to RideWithGPS as user {USER_ID}."]
    assert list(keyring_.entries) == [(SERVICE, "ridewithgps:api_key")]
    assert all(PASSWORD not in secret for secret in keyring_.entries.values())
    password_box = dialog.form_page.findChild(QLineEdit, "password")
    assert password_box is not None and password_box.text() == ""


def test_ridewithgps_with_an_own_api_client_authorises_in_the_browser(
    qtbot: QtBot,
    db: Database,
    keyring_: MemoryKeyring,
    rwgps_fake: RideWithGpsFake,
    dialog_for: DialogFactory,
) -> None:
    browser = Browser()
    dialog = dialog_for(RWGPS, db, open_url=browser.open_in_background)
    dialog.way_choice.setCurrentIndex(1)
    assert not dialog.connect_button.isEnabled()  # this way's boxes are still empty
    fill(dialog, client_id=RWGPS_CLIENT, client_secret=RWGPS_SECRET)

    with qtbot.waitSignal(dialog.connected, timeout=DONE_MS):
        dialog.connect_button.click()

    assert browser.opened[0].startswith(f"{rwgps_fake.url}/oauth/authorize?")
    assert list(keyring_.entries) == [(SERVICE, "ridewithgps:oauth")]
    assert (connection(db, RWGPS) or {}).get("auth") == "oauth"


def test_garmin_asks_for_the_verification_code_and_a_wrong_one_may_be_retyped(
    qtbot: QtBot, db: Database, keyring_: MemoryKeyring, dialog_for: DialogFactory
) -> None:
    garmin = Garmin(needs_mfa=True)
    dialog = dialog_for(GARMIN, db, garmin_factory=garmin.factory)
    fill(dialog, email=EMAIL, password=PASSWORD)
    dialog.connect_button.click()
    qtbot.waitUntil(
        lambda: dialog.pages.currentIndex() == CODE_PAGE and dialog.handle is None,
        timeout=DONE_MS,
    )
    assert "verification code" in dialog.code_note.text()
    assert dialog.connect_button.text() == "Verify" and not dialog.connect_button.isEnabled()

    dialog.code.setText("000000")
    dialog.connect_button.click()
    assert "did not accept that code" in failed(qtbot, dialog)
    assert dialog.pages.currentIndex() == CODE_PAGE and dialog.code.text() == ""
    assert keyring_.entries == {}

    dialog.code.setText(CODE)
    with qtbot.waitSignal(dialog.connected, timeout=DONE_MS) as connected:
        dialog.connect_button.click()

    assert connected.args == ["Connected to Garmin Connect as Ada Runner."]
    assert [call for call, _ in garmin.calls] == ["login", "resume", "resume"]
    assert list(keyring_.entries) == [(SERVICE, "garmin:oauth")]
    assert all(PASSWORD not in secret for secret in keyring_.entries.values())


def test_a_throttled_garmin_sign_in_says_when_to_try_again(
    qtbot: QtBot, db: Database, keyring_: MemoryKeyring, dialog_for: DialogFactory
) -> None:
    garmin = Garmin(login_error=GarminConnectTooManyRequestsError("429 Too Many Requests"))
    dialog = dialog_for(GARMIN, db, garmin_factory=garmin.factory)
    fill(dialog, email=EMAIL, password=PASSWORD)
    dialog.connect_button.click()

    message = failed(qtbot, dialog)
    assert "try again after" in message and PASSWORD not in message
    assert keyring_.entries == {} and connection(db, GARMIN) is None


def test_connecting_from_settings_flips_the_button_and_the_provider_panel(
    qtbot: QtBot,
    db: Database,
    keyring_: MemoryKeyring,
    intervals: IntervalsFake,
    open_window: Callable[..., MainWindow],
) -> None:
    window = open_window(db.url)
    qtbot.waitUntil(lambda: window.last_overview is not None)
    settings = window.open_settings()
    assert isinstance(settings, SettingsDialog)
    button = settings.connect_buttons[ICU]
    assert button.text() == "Connect…"

    button.click()
    dialog = settings.findChild(ConnectDialog)
    assert dialog is not None and dialog.isVisible()
    fill(dialog, api_key=ICU_KEY)
    dialog.connect_button.click()

    qtbot.waitUntil(lambda: button.text() == "Disconnect…", timeout=DONE_MS)
    assert settings.connection_states[ICU].text() == "Connected"
    row = window.providers_panel.rows[ICU]
    qtbot.waitUntil(lambda: row.action_button.text() == "Sync", timeout=DONE_MS)
    assert window.status_label.text() == "Connected to intervals.icu."

    window.disconnect_provider(ICU, settings, confirm=False)
    qtbot.waitUntil(lambda: button.text() == "Connect…", timeout=DONE_MS)
    qtbot.waitUntil(lambda: row.action_button.text() == "Connect…", timeout=DONE_MS)
    assert keyring_.entries == {} and connection(db, ICU) is None

    settings.connect_buttons[ProviderName.SPREADSHEET].click()  # the training log's own dialog
    sheet = settings.findChild(SheetConnectDialog)
    assert sheet is not None and sheet.isVisible()
    sheet.reject()
    settings.reject()


def test_a_provider_that_needs_signing_in_again_offers_it_in_the_provider_panel(
    qtbot: QtBot,
    db: Database,
    keyring_: MemoryKeyring,
    intervals: IntervalsFake,
    open_window: Callable[..., MainWindow],
) -> None:
    record_connection(db, ICU, {"auth": "api_key", "athlete_id": "0"}, "Connected")
    # the key is not in the keyring (a new computer, a wiped keyring): sign in again
    window = open_window(db.url)
    row = window.providers_panel.rows[ICU]
    qtbot.waitUntil(lambda: row.action_button.isEnabled(), timeout=DONE_MS)
    assert row.action_button.text() == "Sync"
    row.action_button.click()  # the sync finds no key
    qtbot.waitUntil(lambda: row.action_button.text() == "Reconnect…", timeout=DONE_MS)
    assert row.action_button.isEnabled() and "again" in row.action_button.toolTip()

    row.action_button.click()
    dialog = window.findChild(ConnectDialog)
    assert dialog is not None and dialog.isVisible()
    fill(dialog, api_key=ICU_KEY)
    dialog.connect_button.click()

    qtbot.waitUntil(lambda: row.action_button.text() == "Sync", timeout=DONE_MS)
    assert keyring_.entries == {(SERVICE, "intervalsicu:api_key"): ICU_KEY}
