"""Rate-limit budgets and retry back-off, shared by every HTTP provider.

Two separate concerns:

* A *budget* reads what the provider says about its limits (Strava-style `X-RateLimit-Limit` /
  `X-RateLimit-Usage` pairs for a 15-minute and a daily window, `X-ReadRateLimit-*` for reads,
  `Retry-After`) and answers "may I send another request, and if not, until when must I wait?".
  A provider asks before every request and raises `RateLimited(until)` instead of sending one
  that would break the limit; nothing ever sleeps waiting for a limit to reset.
* A *retry policy* bounds retries of transient failures (5xx, timeouts) with exponential
  back-off. Its sleep and the budget's clock are injectable so tests never wait.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, runtime_checkable

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def next_quarter_hour(moment: datetime) -> datetime:
    """When a Strava-style 15-minute window resets: the next :00, :15, :30 or :45 (UTC)."""
    moment = moment.astimezone(UTC)
    base = moment.replace(minute=(moment.minute // 15) * 15, second=0, microsecond=0)
    return base + timedelta(minutes=15)


def next_utc_midnight(moment: datetime) -> datetime:
    """When a daily window resets: the next midnight UTC."""
    moment = moment.astimezone(UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Window:
    """One limit the provider reported: `usage` requests of `limit` until `resets_at`."""

    name: str  # "15min", "daily", "read 15min", "read daily"
    limit: int
    usage: int
    resets_at: datetime
    reads_only: bool = False

    def left(self) -> int:
        return self.limit - self.usage

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "limit": self.limit,
            "usage": self.usage,
            "resets_at": self.resets_at.isoformat(),
        }


def _pair(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def parse_windows(headers: Mapping[str, str], now: datetime) -> list[Window]:
    """Strava-style limit/usage header pairs ("15min,daily") as windows with their reset times."""
    lowered = {k.lower(): v for k, v in headers.items()}
    windows: list[Window] = []
    for prefix, label, reads_only in (
        ("x-ratelimit", "", False),
        ("x-readratelimit", "read ", True),
    ):
        limits = _pair(lowered.get(f"{prefix}-limit"))
        usage = _pair(lowered.get(f"{prefix}-usage"))
        if limits is None or usage is None:
            continue
        windows.append(
            Window(f"{label}15min", limits[0], usage[0], next_quarter_hour(now), reads_only)
        )
        windows.append(
            Window(f"{label}daily", limits[1], usage[1], next_utc_midnight(now), reads_only)
        )
    return windows


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """`Retry-After` as an instant: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class RateBudget:
    """What one provider told us about its limits, and whether another request fits.

    `reserve` requests of every window are kept back from reads, so that a write the user
    approved still goes through when a long sync has used up the rest.
    """

    def __init__(
        self,
        *,
        clock: Clock = utc_now,
        reserve: int = 2,
        default_backoff: timedelta = timedelta(minutes=1),
    ) -> None:
        self._clock = clock
        self.reserve = reserve
        self.default_backoff = default_backoff
        self.windows: list[Window] = []
        self.blocked_until: datetime | None = None  # from a 429 or Retry-After
        self.observed_at: datetime | None = None

    def observe(self, headers: Mapping[str, str]) -> None:
        """Remember the limits a response reported (every response, errors included)."""
        now = self._clock()
        windows = parse_windows(headers, now)
        if windows:
            self.windows = windows
            self.observed_at = now

    def rejected(self, headers: Mapping[str, str]) -> datetime:
        """A 429 arrived: when to try again (Retry-After, else the exhausted window's reset)."""
        now = self._clock()
        self.observe(headers)
        until = parse_retry_after(headers.get("retry-after") or headers.get("Retry-After"), now)
        if until is None:
            exhausted = [w.resets_at for w in self._current(now) if w.left() <= 0]
            until = max(exhausted) if exhausted else now + self.default_backoff
        self.blocked_until = max(until, self.blocked_until or until)
        return self.blocked_until

    def _current(self, now: datetime) -> list[Window]:
        return [w for w in self.windows if w.resets_at > now]

    def wait_until(self, *, read: bool = True) -> datetime | None:
        """None when a request may go now; else the instant the budget allows one again."""
        now = self._clock()
        waits: list[datetime] = []
        if self.blocked_until is not None:
            if self.blocked_until > now:
                waits.append(self.blocked_until)
            else:
                self.blocked_until = None
        keep = self.reserve if read else 0
        for window in self._current(now):
            if window.reads_only and not read:
                continue
            if window.left() <= keep:
                waits.append(window.resets_at)
        return max(waits) if waits else None

    def spend(self) -> None:
        """Count a request against the known windows until the next response updates them."""
        self.windows = [
            Window(w.name, w.limit, w.usage + 1, w.resets_at, w.reads_only) for w in self.windows
        ]

    def as_json(self) -> dict[str, Any] | None:
        now = self._clock()
        current = self._current(now)
        if not current and self.blocked_until is None:
            return None
        return {
            "windows": [w.as_json() for w in current],
            "blocked_until": self.blocked_until.isoformat() if self.blocked_until else None,
            "observed_at": self.observed_at.isoformat() if self.observed_at else None,
        }


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries of transient failures: `attempts` tries in all, delays doubling."""

    attempts: int = 3
    base_delay: float = 1.0
    factor: float = 2.0
    max_delay: float = 10.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def start(self) -> "Attempts":
        return Attempts(self)


class Attempts:
    """The retry state of one logical request."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.made = 0

    def begin(self) -> None:
        self.made += 1

    def retry(self, hint_s: float | None = None) -> bool:
        """Wait before the next attempt and say True, or False when the attempts are used up.

        `hint_s` (a server's Retry-After on a 503) is honoured when it fits within `max_delay`;
        a longer hint ends the retries instead of sleeping.
        """
        policy = self.policy
        if self.made >= policy.attempts:
            return False
        delay = min(policy.base_delay * policy.factor ** (self.made - 1), policy.max_delay)
        if hint_s is not None:
            if hint_s > policy.max_delay:
                return False
            delay = max(delay, hint_s)
        policy.sleep(delay)
        return True


@runtime_checkable
class Metered(Protocol):
    """A provider that counts its HTTP requests and reports its rate-limit state."""

    requests_made: int

    def rate_limit_state(self) -> dict[str, Any] | None: ...
