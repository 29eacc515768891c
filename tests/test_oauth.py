"""The desktop OAuth flow against a fake authorisation server (pytest-httpserver on 127.0.0.1).

A small stand-in browser follows the consent page's redirect back to Tracekit's loopback
listener, as the user's browser would.
"""

import base64
import hashlib
import threading
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from tracekit.oauth import (
    AuthorizationDenied,
    AuthorizationTimeout,
    OAuthError,
    StateMismatch,
    TokenSet,
    authorize,
    exchange_code,
    refresh_tokens,
)


class Browser:
    """Opens a URL the way a browser does (following redirects) on its own thread."""

    def __init__(self) -> None:
        self.pages: list[httpx.Response] = []
        self.opened: list[str] = []
        self._threads: list[threading.Thread] = []

    def open(self, url: str) -> bool:
        self.opened.append(url)
        thread = threading.Thread(target=self._visit, args=(url,))
        thread.start()
        self._threads.append(thread)
        return True

    def _visit(self, url: str) -> None:
        self.pages.append(httpx.get(url, follow_redirects=True, timeout=10))

    def finish(self) -> list[httpx.Response]:
        for thread in self._threads:
            thread.join(timeout=10)
        return self.pages


class AuthServer:
    """A fake provider: a consent page that answers at once, and a token endpoint."""

    def __init__(self, server: HTTPServer, answer: str = "allow") -> None:
        self.server = server
        self.answer = answer
        self.seen: dict[str, str] = {}
        self.token_forms: list[dict[str, str]] = []
        server.expect_request("/oauth/authorize", method="GET").respond_with_handler(
            self._authorize
        )
        server.expect_request("/oauth/token", method="POST").respond_with_handler(self._token)

    def _authorize(self, request: Request) -> Response:
        self.seen = dict(request.args)
        back = self.seen["redirect_uri"]
        if self.answer == "deny":
            query = {"error": "access_denied", "state": self.seen["state"]}
        elif self.answer == "forged":
            query = {"code": "c0de", "state": "someone-elses-state"}
        else:
            query = {"code": "c0de", "state": self.seen["state"], "scope": "read,activity:read"}
        return Response(status=302, headers={"Location": f"{back}?{urlencode(query)}"})

    def _token(self, request: Request) -> Response:
        form = dict(request.form)
        self.token_forms.append(form)
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") != "refresh-1":
                return Response('{"error": "invalid_grant"}', status=400)
            return Response(
                '{"access_token": "access-2", "expires_in": 21600, "token_type": "Bearer"}',
                content_type="application/json",
            )
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if form.get("code") != "c0de" or challenge != self.seen.get("code_challenge"):
            return Response('{"error": "invalid_grant"}', status=400)
        if form.get("redirect_uri") != self.seen.get("redirect_uri"):
            return Response('{"error": "invalid_grant"}', status=400)
        body = (
            '{"access_token": "access-1", "refresh_token": "refresh-1", '
            '"expires_at": 1900000000, "token_type": "Bearer", "athlete": {"id": 134815}}'
        )
        return Response(body, content_type="application/json")

    @property
    def authorize_url(self) -> str:
        return self.server.url_for("/oauth/authorize")

    @property
    def token_url(self) -> str:
        return self.server.url_for("/oauth/token")


def run_flow(auth: AuthServer, browser: Browser, **options: Any) -> Any:
    try:
        return authorize(
            auth.authorize_url,
            "client-1",
            "read,activity:read",
            opener=browser.open,
            timeout=options.pop("timeout", 10.0),
            **options,
        )
    finally:
        browser.finish()


def test_the_browser_round_trip_returns_the_code_and_the_tokens_follow(
    httpserver: HTTPServer,
) -> None:
    auth, browser = AuthServer(httpserver), Browser()
    result = run_flow(auth, browser)
    assert result.code == "c0de" and result.granted_scope == "read,activity:read"
    redirect = urlsplit(result.redirect_uri)
    assert redirect.hostname == "127.0.0.1" and redirect.port and redirect.path == "/callback"
    assert auth.seen["code_challenge_method"] == "S256"
    assert auth.seen["client_id"] == "client-1" and len(auth.seen["state"]) >= 32
    (page,) = browser.pages
    assert page.status_code == 200 and "You can close this window" in page.text
    assert "c0de" not in repr(result)

    with httpx.Client() as client:
        tokens = exchange_code(client, auth.token_url, result, "client-1", "secret-1")
        assert tokens.access_token == "access-1" and tokens.athlete_id == "134815"
        assert tokens.expires_at is not None and tokens.expires_at.year == 2030
        assert "access-1" not in repr(tokens) and "refresh-1" not in repr(tokens)
        fresh = refresh_tokens(client, auth.token_url, tokens, "client-1", "secret-1")
    assert fresh.access_token == "access-2"
    assert fresh.refresh_token == "refresh-1"  # none came back: the old one still holds
    assert TokenSet.from_json(fresh.as_json()) == fresh


def test_declining_in_the_browser_is_reported_as_such(httpserver: HTTPServer) -> None:
    auth, browser = AuthServer(httpserver, answer="deny"), Browser()
    with pytest.raises(AuthorizationDenied, match="declined"):
        run_flow(auth, browser)
    assert "You declined access" in browser.pages[0].text


def test_a_redirect_with_someone_elses_state_is_refused(httpserver: HTTPServer) -> None:
    auth, browser = AuthServer(httpserver, answer="forged"), Browser()
    with pytest.raises(StateMismatch, match="state"):
        run_flow(auth, browser)
    assert "does not belong" in browser.pages[0].text


def test_nobody_coming_back_times_out_with_a_clear_message() -> None:
    opened: list[str] = []
    with pytest.raises(AuthorizationTimeout, match="in time"):
        authorize(
            "https://provider.invalid/oauth/authorize",
            "client-1",
            opener=lambda url: opened.append(url) is None,
            timeout=0.3,
        )
    (url,) = opened
    query = parse_qs(urlsplit(url).query)
    assert query["redirect_uri"][0].startswith("http://127.0.0.1:")


def test_without_pkce_no_challenge_is_sent(httpserver: HTTPServer) -> None:
    auth, browser = AuthServer(httpserver), Browser()
    result = run_flow(auth, browser, pkce=False)
    assert "code_challenge" not in auth.seen and result.code_verifier is None


def test_a_refused_code_exchange_says_to_start_again(httpserver: HTTPServer) -> None:
    auth, browser = AuthServer(httpserver), Browser()
    result = run_flow(auth, browser)
    with httpx.Client() as client, pytest.raises(OAuthError, match="start connecting again"):
        exchange_code(
            client,
            auth.token_url,
            result.__class__(
                code="wrong", redirect_uri=result.redirect_uri, code_verifier=result.code_verifier
            ),
            "client-1",
        )
