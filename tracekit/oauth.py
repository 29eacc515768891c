"""The desktop OAuth 2.0 authorisation-code flow, for providers that use it.

A one-shot HTTP server listens on 127.0.0.1 (a free port unless one is asked for), the system
browser opens the provider's consent page, and the provider redirects back to the loopback
address with a code. The `state` value is checked, PKCE (S256) is sent where the provider supports
it, and the outcome is the code or a clear error: the user declined, the state did not match (a
forged or stale redirect), or nobody came back in time. Exchanging the code for tokens is a
separate, small step (`exchange_code`, `refresh_tokens`) that returns a `TokenSet` whose repr
never shows a token.
"""

import base64
import hashlib
import html
import secrets
import threading
import time
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from socketserver import TCPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

Opener = Callable[[str], bool | None]


class OAuthError(Exception):
    """The authorisation did not complete; the message says why, for the user."""


class AuthorizationDenied(OAuthError):
    pass


class StateMismatch(OAuthError):
    pass


class AuthorizationTimeout(OAuthError):
    pass


class AuthorizationCancelled(OAuthError):
    pass


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)  # 86 characters from the unreserved set
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


@dataclass(frozen=True, slots=True)
class AuthorizationResult:
    code: str = field(repr=False)
    redirect_uri: str
    code_verifier: str | None = field(default=None, repr=False)
    granted_scope: str | None = None


@dataclass(frozen=True, slots=True)
class _Callback:
    query: dict[str, str]


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Tracekit</title></head>
<body style="font-family: sans-serif; margin: 3em"><h1>{title}</h1><p>{text}</p></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    server: "_LoopbackServer"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != self.server.callback_path:
            self.send_error(404)
            return
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        title, text = self.server.describe(query)
        body = _PAGE.format(title=html.escape(title), text=html.escape(text)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)
        self.server.callback = _Callback(query)

    def log_message(self, format: str, *args: Any) -> None:
        # The default handler prints every request line (which carries the code) to stderr.
        return


class _LoopbackServer(TCPServer):
    # TCPServer rather than HTTPServer: HTTPServer looks up this host's name, which can stall.
    allow_reuse_address = False

    def __init__(self, port: int, callback_path: str, state: str) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.callback_path = callback_path
        self.state = state
        self.callback: _Callback | None = None

    def describe(self, query: Mapping[str, str]) -> tuple[str, str]:
        """What the browser shows once the provider sent the user back."""
        if query.get("state") != self.state:
            return "Not connected", "This page does not belong to the connection Tracekit began."
        if "error" in query:
            if query["error"] == "access_denied":
                return "Not connected", "You declined access. You can close this window."
            return "Not connected", f"The provider reported an error: {query['error']}."
        if not query.get("code"):
            return "Not connected", "The provider sent no authorisation code."
        return "Connected", "Tracekit received the authorisation. You can close this window."


class LoopbackAuthorization:
    """One authorisation attempt: the loopback listener, its redirect URI and the consent URL."""

    def __init__(
        self,
        authorize_url: str,
        client_id: str,
        scope: str | None = None,
        *,
        pkce: bool = True,
        extra_params: Mapping[str, str] | None = None,
        port: int = 0,
        path: str = "/callback",
        redirect_host: str = "127.0.0.1",
    ) -> None:
        self.state = secrets.token_urlsafe(24)
        self._server = _LoopbackServer(port, path, self.state)
        bound_port = self._server.server_address[1]
        self.redirect_uri = f"http://{redirect_host}:{bound_port}{path}"
        self.code_verifier: str | None = None
        params: dict[str, str] = {
            "client_id": client_id,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "state": self.state,
        }
        if scope:
            params["scope"] = scope
        if pkce:
            self.code_verifier, challenge = pkce_pair()
            params["code_challenge"] = challenge
            params["code_challenge_method"] = "S256"
        params.update(extra_params or {})
        joiner = "&" if urlsplit(authorize_url).query else "?"
        self.url = f"{authorize_url}{joiner}{urlencode(params)}"

    def __repr__(self) -> str:
        return f"LoopbackAuthorization(redirect_uri={self.redirect_uri!r})"

    def wait(
        self, timeout: float = 300.0, cancelled: Callable[[], bool] | None = None
    ) -> AuthorizationResult:
        """Serve the loopback address until the provider redirects back, then judge the reply."""
        deadline = time.monotonic() + timeout
        while self._server.callback is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AuthorizationTimeout(
                    "No answer came back from the browser in time; start connecting again."
                )
            if cancelled is not None and cancelled():
                raise AuthorizationCancelled("Connecting was cancelled.")
            self._server.timeout = min(remaining, 0.25) if cancelled else remaining
            self._server.handle_request()
        return self._judge(self._server.callback.query)

    def _judge(self, query: Mapping[str, str]) -> AuthorizationResult:
        if query.get("state") != self.state:
            raise StateMismatch(
                "The browser came back with a different state value than Tracekit sent, so "
                "the answer was refused (a stale or forged redirect). Start connecting again."
            )
        if "error" in query:
            if query["error"] == "access_denied":
                raise AuthorizationDenied("Access was declined in the browser; nothing changed.")
            detail = query.get("error_description") or query["error"]
            raise OAuthError(f"The provider refused the authorisation: {detail}")
        code = query.get("code")
        if not code:
            raise OAuthError("The provider sent no authorisation code; start connecting again.")
        return AuthorizationResult(
            code=code,
            redirect_uri=self.redirect_uri,
            code_verifier=self.code_verifier,
            granted_scope=query.get("scope"),
        )

    def close(self) -> None:
        self._server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def authorize(
    authorize_url: str,
    client_id: str,
    scope: str | None = None,
    *,
    pkce: bool = True,
    extra_params: Mapping[str, str] | None = None,
    opener: Opener = webbrowser.open,
    on_url: Callable[[str], None] | None = None,
    timeout: float = 300.0,
    cancelled: Callable[[], bool] | None = None,
    port: int = 0,
    path: str = "/callback",
    redirect_host: str = "127.0.0.1",
) -> AuthorizationResult:
    """Run the whole browser round trip and return the code (or raise an `OAuthError`).

    `on_url` receives the consent URL too, so a caller can show it when no browser opens.
    """
    with LoopbackAuthorization(
        authorize_url,
        client_id,
        scope,
        pkce=pkce,
        extra_params=extra_params,
        port=port,
        path=path,
        redirect_host=redirect_host,
    ) as flow:
        if on_url is not None:
            on_url(flow.url)
        # A browser that fails to start leaves the user with the URL from `on_url`.
        threading.Thread(target=opener, args=(flow.url,), daemon=True).start()
        return flow.wait(timeout, cancelled)


@dataclass(frozen=True, slots=True)
class TokenSet:
    """What a token endpoint returned. Tokens never show in repr; store it with `as_json`."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    scope: str | None = None
    token_type: str = "Bearer"
    athlete_id: str | None = None

    def expires_within(self, margin: timedelta, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at - margin <= now

    def as_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "scope": self.scope,
            "token_type": self.token_type,
            "athlete_id": self.athlete_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "TokenSet":
        expires = data.get("expires_at")
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=data.get("refresh_token"),
            expires_at=datetime.fromisoformat(expires) if expires else None,
            scope=data.get("scope"),
            token_type=str(data.get("token_type") or "Bearer"),
            athlete_id=data.get("athlete_id"),
        )

    @classmethod
    def from_response(cls, data: Mapping[str, Any], now: datetime) -> "TokenSet":
        """Read a token endpoint's JSON (`expires_at` epoch seconds or `expires_in`)."""
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise OAuthError("The token endpoint answered without an access token.")
        expires_at: datetime | None = None
        if isinstance(data.get("expires_at"), int | float):
            expires_at = datetime.fromtimestamp(float(data["expires_at"]), UTC)
        elif isinstance(data.get("expires_in"), int | float):
            expires_at = now + timedelta(seconds=float(data["expires_in"]))
        athlete = data.get("athlete")
        athlete_id = str(athlete["id"]) if isinstance(athlete, dict) and "id" in athlete else None
        refresh = data.get("refresh_token")
        return cls(
            access_token=access,
            refresh_token=refresh if isinstance(refresh, str) else None,
            expires_at=expires_at,
            scope=data.get("scope") if isinstance(data.get("scope"), str) else None,
            token_type=str(data.get("token_type") or "Bearer"),
            athlete_id=athlete_id,
        )


def _token_request(
    client: httpx.Client, token_url: str, form: dict[str, str], label: str
) -> TokenSet:
    try:
        response = client.post(token_url, data=form, headers={"Accept": "application/json"})
    except httpx.HTTPError as error:
        raise OAuthError(
            f"{label}: the token endpoint could not be reached ({type(error).__name__})"
        ) from None
    if response.status_code != 200:
        raise OAuthError(
            f"{label}: the token endpoint refused the request (HTTP {response.status_code}); "
            "start connecting again."
        )
    try:
        data = response.json()
    except ValueError:
        raise OAuthError(
            f"{label}: the token endpoint answered with something other than JSON"
        ) from None
    if not isinstance(data, dict):
        raise OAuthError(f"{label}: the token endpoint answered with an unexpected shape")
    return TokenSet.from_response(data, datetime.now(UTC))


def exchange_code(
    client: httpx.Client,
    token_url: str,
    result: AuthorizationResult,
    client_id: str,
    client_secret: str | None = None,
) -> TokenSet:
    """Trade the authorisation code for tokens (form-encoded, as RFC 6749 asks)."""
    form = {
        "grant_type": "authorization_code",
        "code": result.code,
        "redirect_uri": result.redirect_uri,
        "client_id": client_id,
    }
    if client_secret:
        form["client_secret"] = client_secret
    if result.code_verifier:
        form["code_verifier"] = result.code_verifier
    return _token_request(client, token_url, form, "Connecting")


def refresh_tokens(
    client: httpx.Client,
    token_url: str,
    tokens: TokenSet,
    client_id: str,
    client_secret: str | None = None,
) -> TokenSet:
    """A new token set from the refresh token; keep the old refresh token if none came back."""
    if not tokens.refresh_token:
        raise OAuthError("There is no refresh token; connect again.")
    form = {
        "grant_type": "refresh_token",
        "refresh_token": tokens.refresh_token,
        "client_id": client_id,
    }
    if client_secret:
        form["client_secret"] = client_secret
    fresh = _token_request(client, token_url, form, "Refreshing the authorisation")
    if fresh.refresh_token is None:
        fresh = TokenSet(
            access_token=fresh.access_token,
            refresh_token=tokens.refresh_token,
            expires_at=fresh.expires_at,
            scope=fresh.scope or tokens.scope,
            token_type=fresh.token_type,
            athlete_id=fresh.athlete_id or tokens.athlete_id,
        )
    return fresh
