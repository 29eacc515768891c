"""A stand-in for `garminconnect.Garmin` at the sign-in boundary.

Garmin's real sign-in cannot run against a fake (the library only talks to garmin.com, with
browser TLS impersonation and deliberate pauses), so `StandInGarmin` takes the place of the
library's class and behaves as it does: `login()` with `return_on_mfa=True` returns
("needs_mfa", state), `resume_login(state, code)` finishes on the same instance and keeps the
pending session after a wrong code, and the library's own exceptions are raised.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from garminconnect import GarminConnectAuthenticationError

from tests.fakes.garmin_server import make_jwt, token_store

CODE = "482913"  # the verification code Garmin "sent"
ACCESS = make_jwt(jti="after-login")


@dataclass
class Garmin:
    """What the stand-in library does, and what was asked of it."""

    needs_mfa: bool = False
    login_error: Exception | None = None
    resume_error: Exception | None = None
    tokens: str = token_store(ACCESS)
    made: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def factory(self, **options: Any) -> "StandInGarmin":
        self.made.append(options)
        return StandInGarmin(self, **options)


class _StandInClient:
    def __init__(self) -> None:
        self.di_token: str | None = None
        self.di_refresh_token: str | None = None
        self.di_client_id: str | None = None

    def loads(self, tokens: str) -> None:
        data = json.loads(tokens)
        self.di_token = data["di_token"]
        self.di_refresh_token = data["di_refresh_token"]
        self.di_client_id = data["di_client_id"]

    def dumps(self) -> str:
        return json.dumps(
            {
                "di_token": self.di_token,
                "di_refresh_token": self.di_refresh_token,
                "di_client_id": self.di_client_id,
            }
        )


class StandInGarmin:
    """Stands in for `garminconnect.Garmin` at the sign-in boundary."""

    def __init__(
        self,
        behaviour: Garmin,
        email: str | None = None,
        password: str | None = None,
        return_on_mfa: bool = False,
        **_options: Any,
    ) -> None:
        self._behaviour = behaviour
        self.username = email
        self.password = password
        self.return_on_mfa = return_on_mfa
        self.client = _StandInClient()
        self.full_name: str | None = None
        self.display_name: str | None = None
        self._pending: object | None = None

    def login(self, tokenstore: str | None = None) -> tuple[str | None, Any]:
        behaviour = self._behaviour
        behaviour.calls.append(("login", self.username or ""))
        if behaviour.login_error is not None:
            raise behaviour.login_error
        if behaviour.needs_mfa and self.return_on_mfa:
            self._pending = object()
            return "needs_mfa", {"flow": "ios", "pending": True}
        self._signed_in()
        return None, None

    def resume_login(self, client_state: dict[str, Any], mfa_code: str) -> tuple[Any, Any]:
        behaviour = self._behaviour
        behaviour.calls.append(("resume", mfa_code))
        if self._pending is None:  # the pending session lives on the instance that started
            raise GarminConnectAuthenticationError("no MFA login in progress on this instance")
        if behaviour.resume_error is not None:
            raise behaviour.resume_error
        if mfa_code != CODE:
            raise GarminConnectAuthenticationError("MFA verification failed: ['INVALID_MFA_CODE']")
        self._pending = None
        self._signed_in()
        return None, None

    def _signed_in(self) -> None:
        self.client.loads(self._behaviour.tokens)
        self.full_name = "Ada Runner"
        self.display_name = "runner42"
