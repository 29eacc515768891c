"""The one place Tracekit touches the garminconnect library (pinned to `SUPPORTED`).

`GarminConnectClient` wraps one `garminconnect.Garmin` instance and gives the rest of Tracekit
typed answers and its own exceptions; everything untyped about the library stays in here.

* Signing in: `sign_in(email, password)` runs the library's login with `return_on_mfa=True`;
  when Garmin wants a code, `submit_mfa_code(code)` finishes the login on the same instance
  (the library keeps the pending SSO session on it). The password is handed to the library and
  dropped from it right after; it is never kept, logged or put in an exception here.
* Using a saved sign-in: `from_token_store(json)` loads what `token_store()` returned (the
  library's `client.dumps()`: DI access token, refresh token, client id) without any request.
  The library refreshes the access token by itself (15 minutes before its JWT `exp`, and once
  on a 401 before retrying the request); `take_refreshed_token_store()` tells the caller when
  that happened, so the new tokens can be saved.
* Requests go through the library's authenticated transport (`client.request`) and come back
  as an `Answer` whatever the HTTP status; network failures raise `TimedOut`/`Unreachable`.
  The library's own retries are switched off (`retry_attempts=0`): Tracekit retries.

The API tier's base URL is the private attribute `client._connectapi` (and the refresh URL
`client._di_token_url`). Only a loopback address (a fake server in tests) may replace them, so
a stray setting can never send Garmin tokens to another host. Those attributes are why the
library is pinned: check them again before widening `SUPPORTED`.
"""

import functools
import importlib.metadata
import ipaddress
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import IO, Any, Self
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

SUPPORTED = ">=0.3.20,<0.4"
_LOWEST = (0, 3, 20)
_BELOW = (0, 4)
DI_TOKEN_PATH = "/di-oauth2-service/oauth/token"
_NEEDS_MFA = "needs_mfa"

# What makes a `Garmin`-like object: the library's class, or a stand-in in tests. Called with
# the keyword arguments of `garminconnect.Garmin`.
GarminFactory = Callable[..., Any]


class GarminClientError(Exception):
    """Something went wrong talking to Garmin Connect; the message never holds a secret."""


class UnsupportedLibrary(GarminClientError):
    pass


class NotSignedIn(GarminClientError):
    """There are no usable tokens (none loaded, or the saved ones are unreadable)."""


class TimedOut(GarminClientError):
    pass


class Unreachable(GarminClientError):
    pass


class TooLarge(GarminClientError):
    """A download went past the byte limit it was given."""


class LoginRateLimited(GarminClientError):
    """Garmin's sign-in refused with 429 (or 427): too many attempts."""


class LoginRefused(GarminClientError):
    """Garmin refused the e-mail address and password."""


class MfaCodeRefused(GarminClientError):
    """Garmin refused the verification code; the sign-in still waits for a correct one."""


class LoginFailed(GarminClientError):
    """Signing in failed for another reason (network, Garmin blocking this client, …)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer from Garmin Connect. Header names are lower case."""

    status: int
    headers: Mapping[str, str]
    content: bytes = b""

    def json(self) -> Any:
        """The body as JSON; raises ValueError when it is not JSON."""
        return json.loads(self.content) if self.content else None


@dataclass(frozen=True, slots=True)
class _Library:
    module: ModuleType
    too_many_requests: type[Exception]
    authentication: type[Exception]
    connection: type[Exception]
    timeout: type[Exception]
    transport: type[Exception]


def _version_tuple(version: str) -> tuple[int, ...]:
    numbers = []
    for part in version.split(".")[:3]:
        digits = re.match(r"\d+", part)
        numbers.append(int(digits.group()) if digits else 0)
    return tuple(numbers)


@functools.cache
def _library() -> _Library:
    """Import garminconnect on first use (it is slow to import) and check its version."""
    try:
        version = importlib.metadata.version("garminconnect")
    except importlib.metadata.PackageNotFoundError:
        raise UnsupportedLibrary(
            f"Garmin Connect support needs the garminconnect package ({SUPPORTED}); "
            "it is not installed"
        ) from None
    if not _LOWEST <= _version_tuple(version) < _BELOW:
        raise UnsupportedLibrary(
            f"Garmin Connect support needs garminconnect {SUPPORTED}, but {version} is "
            "installed; reinstall Tracekit"
        )
    import garminconnect
    import requests

    return _Library(
        module=garminconnect,
        too_many_requests=garminconnect.GarminConnectTooManyRequestsError,
        authentication=garminconnect.GarminConnectAuthenticationError,
        connection=garminconnect.GarminConnectConnectionError,
        timeout=requests.Timeout,
        transport=requests.RequestException,
    )


def _default_factory(library: _Library) -> GarminFactory:
    """`garminconnect.Garmin`, looked up on each use (a test may stand in for it)."""
    factory: GarminFactory = library.module.Garmin
    return factory


def _loopback_base(url: str) -> str:
    """`url` without a trailing slash, when it points at this computer; else ValueError."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme not in ("http", "https") or not loopback:
        raise ValueError(
            "the Garmin Connect API address can only be replaced by one on this computer "
            f"(a test server), not {parts.scheme}://{host}"
        )
    return url.rstrip("/")


def _scrubbed(text: str, *secrets: str) -> str:
    """One line of a library message, without any of `secrets`, short enough to show."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    for secret in secrets:
        if secret:
            line = line.replace(secret, "***")
    return line[:200]


def _headers(response: Any) -> dict[str, str]:
    raw = getattr(response, "headers", None) or {}
    return {str(k).lower(): str(v) for k, v in raw.items()}


class GarminConnectClient:
    """One signed-in (or signing-in) Garmin Connect session. Build it with `sign_in` or
    `from_token_store`."""

    def __init__(self, garmin: Any) -> None:
        self._garmin = garmin
        self._mfa_state: Any = None
        self._mfa_pending = False
        self._known_tokens = self._tokens()

    def __repr__(self) -> str:
        return f"GarminConnectClient(mfa_pending={self._mfa_pending})"

    # -- building -------------------------------------------------------------------------

    @classmethod
    def from_token_store(
        cls,
        token_store: str,
        *,
        api_base_url: str | None = None,
        factory: GarminFactory | None = None,
    ) -> Self:
        """A session from saved tokens; sends nothing. Raises NotSignedIn when unreadable."""
        library = _library()
        garmin = (factory or _default_factory(library))(retry_attempts=0)
        try:
            garmin.client.loads(token_store)
        except library.connection:
            raise NotSignedIn("the saved Garmin Connect sign-in cannot be read") from None
        if api_base_url:
            base = _loopback_base(api_base_url)
            garmin.client._connectapi = base
            garmin.client._di_token_url = base + DI_TOKEN_PATH
        return cls(garmin)

    @classmethod
    def sign_in(cls, email: str, password: str, *, factory: GarminFactory | None = None) -> Self:
        """Sign in with e-mail and password. When Garmin asks for a verification code the
        result has `mfa_pending` set: pass the code to `submit_mfa_code`.

        Raises LoginRateLimited, LoginRefused or LoginFailed. Can take tens of seconds (the
        library pauses between steps on purpose), so a window must run it off its UI thread.
        """
        library = _library()
        garmin = (factory or _default_factory(library))(
            email=email, password=password, return_on_mfa=True, retry_attempts=0
        )
        try:
            status, state = garmin.login()
        except library.too_many_requests:
            raise LoginRateLimited(
                "Garmin Connect refused the sign-in: too many attempts"
            ) from None
        except library.authentication:
            raise LoginRefused("Garmin Connect refused the e-mail address or password") from None
        except (library.connection, library.transport) as error:
            reason = _scrubbed(str(error), password, email) or type(error).__name__
            raise LoginFailed(f"could not sign in to Garmin Connect ({reason})") from None
        finally:
            garmin.password = None  # resume_login does not need it; do not keep it around
        client = cls(garmin)
        if status == _NEEDS_MFA:
            client._mfa_state = state
            client._mfa_pending = True
            log.info("Garmin Connect asked for a verification code")
        return client

    def submit_mfa_code(self, code: str) -> None:
        """Finish a sign-in that waits for a verification code.

        Raises MfaCodeRefused (the sign-in still waits: another code may be tried),
        LoginRateLimited or LoginFailed.
        """
        if not self._mfa_pending:
            raise LoginFailed("no Garmin Connect sign-in is waiting for a code")
        library = _library()
        try:
            self._garmin.resume_login(self._mfa_state, code.strip())
        except library.too_many_requests:
            raise LoginRateLimited("Garmin Connect refused the code: too many attempts") from None
        except library.authentication:
            raise MfaCodeRefused("Garmin Connect did not accept the verification code") from None
        except (library.connection, library.transport) as error:
            reason = _scrubbed(str(error), code) or type(error).__name__
            raise LoginFailed(f"could not finish signing in to Garmin Connect ({reason})") from None
        self._mfa_state = None
        self._mfa_pending = False
        self._known_tokens = self._tokens()

    @property
    def mfa_pending(self) -> bool:
        return self._mfa_pending

    def account_name(self) -> str | None:
        """The account's full or display name, when the library loaded the profile."""
        for attribute in ("full_name", "display_name"):
            value = getattr(self._garmin, attribute, None)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None

    # -- tokens ---------------------------------------------------------------------------

    def _tokens(self) -> tuple[object, object]:
        client = getattr(self._garmin, "client", None)
        return getattr(client, "di_token", None), getattr(client, "di_refresh_token", None)

    def token_store(self) -> str:
        """The tokens to keep (JSON, as the library writes it); a secret for the keyring."""
        if self._mfa_pending or not self._tokens()[0]:
            raise NotSignedIn("not signed in to Garmin Connect")
        return str(self._garmin.client.dumps())

    def take_refreshed_token_store(self) -> str | None:
        """The new token store when the library refreshed the tokens since the last call."""
        current = self._tokens()
        if current == self._known_tokens or not current[0]:
            return None
        self._known_tokens = current
        return self.token_store()

    # -- requests -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        timeout: float,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> Answer:
        """Send one authenticated request to the API tier; the answer whatever its status."""
        options: dict[str, Any] = {"timeout": timeout}
        if params is not None:
            options["params"] = dict(params)
        if json is not None:
            options["json"] = json
        if files is not None:
            options["files"] = dict(files)
        response = self._send(method, path, options)
        return Answer(response.status_code, _headers(response), bytes(response.content or b""))

    def download(self, path: str, sink: IO[bytes], *, timeout: float, max_bytes: int) -> Answer:
        """GET `path`; a 200 body is streamed into `sink` (at most `max_bytes`, else TooLarge)
        and left out of the answer. Any other answer carries its body."""
        options: dict[str, Any] = {"timeout": timeout, "stream": True, "headers": {"Accept": "*/*"}}
        response = self._send("GET", path, options)
        try:
            if response.status_code != 200:
                return Answer(response.status_code, _headers(response), bytes(response.content))
            written = 0
            library = _library()
            try:
                for block in response.iter_content(1 << 20):
                    written += len(block)
                    if written > max_bytes:
                        raise TooLarge(f"larger than {max_bytes // 2**20} MiB")
                    sink.write(block)
            except library.timeout:
                raise TimedOut("no answer in time") from None
            except library.transport as error:
                raise Unreachable(type(error).__name__) from None
            return Answer(response.status_code, _headers(response))
        finally:
            close = getattr(response, "close", None)
            if callable(close):
                close()

    def _send(self, method: str, path: str, options: dict[str, Any]) -> Any:
        library = _library()
        try:
            return self._garmin.client.request(method, "connectapi", path, **options)
        except library.connection as error:
            response = getattr(error, "response", None)
            if response is None:
                raise Unreachable(type(error).__name__) from None
            return response  # an HTTP error status: the caller decides what it means
        except library.authentication:
            raise NotSignedIn("not signed in to Garmin Connect") from None
        except library.timeout:
            raise TimedOut("no answer in time") from None
        except library.transport as error:
            raise Unreachable(type(error).__name__) from None

    def close(self) -> None:
        client = getattr(self._garmin, "client", None)
        for name in ("_api_session", "cs"):
            session = getattr(client, name, None)
            close = getattr(session, "close", None)
            if callable(close):
                close()
