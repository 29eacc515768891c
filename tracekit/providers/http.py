"""What every provider Tracekit talks to over httpx shares: one place for the rules.

A rate budget read from every answer (and a stop before the limit, never a sleep), bounded
retries with back-off for timeouts, network errors and 5xx, one token refresh on a 401, and
the request count a sync reports. A provider supplies its client and its own words for a
refused authorisation.
"""

import logging
from collections.abc import Mapping
from datetime import timedelta
from types import TracebackType
from typing import Any, ClassVar, Self

import httpx

from tracekit.providers.base import Provider, ProviderError, RateLimited, ReconnectNeeded
from tracekit.ratelimit import Clock, RateBudget, RetryPolicy, parse_retry_after

log = logging.getLogger(__name__)


class MeteredProvider(Provider):
    """A provider with a network session to close and a rate budget a sync reports."""

    budget: RateBudget

    def close(self) -> None:
        """Release the network session (a context manager closes it too)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def rate_limit_state(self) -> dict[str, Any] | None:
        return self.budget.as_json()


class HttpxProvider(MeteredProvider):
    # Answers that mean "connect again"; a provider may treat 403 as an ordinary refusal.
    reconnect_statuses: ClassVar[frozenset[int]] = frozenset({401, 403})

    def _init_http(
        self, client: httpx.Client, timeout: float, retry: RetryPolicy | None, clock: Clock
    ) -> None:
        self._client = client
        self.timeout = timeout
        self._retry = retry or RetryPolicy()
        self._clock = clock
        self.budget = RateBudget(clock=clock, default_backoff=timedelta(minutes=1))
        self.requests_made = 0

    def close(self) -> None:
        self._client.close()

    def _refresh_auth(self) -> bool:
        """Refresh the access token after a 401; True when there is a new one to retry with."""
        return False

    def _refused_message(self, status: int) -> str:
        return f"the authorisation was refused ({status}); connect again"

    def _error(self, response: httpx.Response, subject: str | None = None) -> ProviderError:
        """A refusal in the provider's own words where its answer has them. A 403 reaches here
        only where it is not a reconnect (`reconnect_statuses`): one item that is not ours."""
        status = response.status_code
        if status == 404 and subject is not None:
            return ProviderError(self.name, f"{subject} not found")
        if status == 403 and subject is not None:
            return ProviderError(self.name, f"{subject} belongs to someone else (403)")
        detail = error_text(response)
        return ProviderError(
            self.name, f"request refused ({status})" + (f": {detail}" if detail else "")
        )

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ProviderError(
                self.name, f"unexpected answer (HTTP {response.status_code}, not JSON)"
            ) from None

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        files: Mapping[str, tuple[str, bytes]] | None = None,
    ) -> httpx.Response:
        wait = self.budget.wait_until(read=method == "GET")
        if wait is not None:
            raise RateLimited(
                self.name, wait, f"rate limit nearly used up; requests resume at {wait:%H:%M} UTC"
            )
        attempts = self._retry.start()
        refreshed = False
        while True:
            attempts.begin()
            self.requests_made += 1
            self.budget.spend()
            try:
                response = self._client.request(method, path, params=params, json=json, files=files)
            except httpx.TimeoutException:
                log.info("%s %s timed out (attempt %d)", method, path, attempts.made)
                if attempts.retry():
                    continue
                raise ProviderError(
                    self.name,
                    f"no answer within {self.timeout:g} s after {attempts.made} attempts; "
                    "try again later",
                ) from None
            except httpx.TransportError as error:
                log.info(
                    "%s %s failed: %s (attempt %d)",
                    method,
                    path,
                    type(error).__name__,
                    attempts.made,
                )
                if attempts.retry():
                    continue
                raise ProviderError(
                    self.name,
                    f"could not reach the server ({type(error).__name__}) after "
                    f"{attempts.made} attempts; check your connection",
                ) from None
            status = response.status_code
            log.debug("%s %s -> %d", method, path, status)
            self.budget.observe(response.headers)
            if status == 429:
                until = self.budget.rejected(response.headers)
                raise RateLimited(
                    self.name, until, f"rate limited (429); try again after {until:%H:%M} UTC"
                )
            if status >= 500:
                now = self._clock()
                hint = parse_retry_after(response.headers.get("Retry-After"), now)
                if attempts.retry((hint - now).total_seconds() if hint else None):
                    continue
                raise ProviderError(
                    self.name,
                    f"server error {status} after {attempts.made} attempts; try again later",
                )
            if status == 401 and not refreshed and self._refresh_auth():
                refreshed = True
                continue
            if status in self.reconnect_statuses:
                raise ReconnectNeeded(self.name, self._refused_message(status))
            return response


def error_text(response: httpx.Response) -> str:
    """The message a JSON error answer carries (first of a list), cut to 200 characters."""
    try:
        data = response.json()
    except ValueError:
        return ""
    if isinstance(data, list) and data and isinstance(data[0], dict):
        data = data[0]
    if isinstance(data, dict):
        text = data.get("error") or data.get("message") or data.get("errors") or ""
        return str(text)[:200]
    return ""
