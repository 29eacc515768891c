"""Sync cost per provider: HTTP requests and wall time, against each provider's fake.

For intervals.icu, Strava and RideWithGPS in turn: start the provider's fake server in this
process (the test fakes: real HTTP on 127.0.0.1), seed a history of N activities (one a day,
in four time zones, with gear), and time, into a fresh database:

* the first sync (the whole history, gear included),
* an "everything up to date" sync straight after (target: at most one request), and
* a re-pull of a month pulled minutes ago (no request at all).

Wall time includes the fake server's own work (it shares this process and its GIL), so it is
an upper bound for the client side. Run from the repository root:

    python -m bench.bench_sync [--activities N] [--json]
"""

import argparse
import importlib
import json
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.rwgps_server import USER_ID, RideWithGpsFake, rwgps_trip
from tests.fakes.strava_server import StravaFake, strava_activity
from tracekit.oauth import TokenSet
from tracekit.paths import sqlite_url
from tracekit.providers.base import Provider
from tracekit.providers.intervalsicu import IntervalsIcuProvider
from tracekit.providers.ridewithgps import RideWithGpsProvider
from tracekit.providers.strava import StravaProvider
from tracekit.store.engine import Database
from tracekit.sync import SyncReport, sync_month, sync_provider

ZONES = ("Europe/Madrid", "America/New_York", "Asia/Tokyo", "America/Los_Angeles")
TARGET_UP_TO_DATE_REQUESTS = 1


@dataclass(frozen=True, slots=True)
class Figures:
    provider: str
    activities: int
    first_requests: int | None
    first_seconds: float
    up_to_date_requests: int | None
    up_to_date_seconds: float
    month_requests: int | None

    @property
    def meets_target(self) -> bool:
        return (
            self.up_to_date_requests is not None
            and self.up_to_date_requests <= TARGET_UP_TO_DATE_REQUESTS
        )


# -- each provider, with its fake seeded ------------------------------------------------------

Setup = Callable[[datetime, int], AbstractContextManager[Provider]]


def _starts(now: datetime, count: int) -> Iterator[tuple[int, datetime, str]]:
    for n in range(1, count + 1):
        yield n, now - timedelta(days=n, hours=5), ZONES[n % len(ZONES)]


@contextmanager
def intervals(now: datetime, count: int) -> Iterator[Provider]:
    key = "bench-key"
    activities = []
    for n, start, zone in _starts(now, count):
        local = start.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        activities.append(
            {
                "id": f"i{n}",
                "name": f"Ride {n}",
                "type": "Ride",
                "start_date_local": local.isoformat(timespec="seconds"),
                "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "timezone": zone,
                "distance": 30120.5,
                "moving_time": 3900,
                "elapsed_time": 4200,
                "gear": {"id": "b1"},
                "source": "GARMIN_CONNECT",
            }
        )
    # Loaded by name so that mypy does not follow into it: tests/fakes/intervals_server.py has
    # a typing slip of its own (`_wsgi` returns Iterable, not Iterator) that is not this file's.
    fake_module: Any = importlib.import_module("tests.fakes.intervals_server")
    with fake_module.IntervalsFake() as fake:
        fake.seed(
            api_keys=[key],
            gear=[{"id": "b1", "name": "Road bike", "type": "Bike"}],
            activities=activities,
        )
        with IntervalsIcuProvider(api_key=key, base_url=fake.url) as provider:
            yield provider


@contextmanager
def strava(now: datetime, count: int) -> Iterator[Provider]:
    activities = [
        strava_activity(7000 + n, start, zone, gear_id="b1", external_id=f"garmin_push_{n}")
        for n, start, zone in _starts(now, count)
    ]
    with StravaFake() as fake:
        fake.seed(
            apps={"4242": "bench-secret"},
            bikes=[{"id": "b1", "name": "Road bike"}],
            activities=activities,
            limits={"read": [100_000, 1_000_000], "overall": [100_000, 1_000_000]},
        )
        expires = datetime.now(UTC) + timedelta(hours=6)
        fake.grant("bench-access", "bench-refresh", expires_at=expires)
        tokens = TokenSet(
            access_token="bench-access", refresh_token="bench-refresh", expires_at=expires
        )
        with StravaProvider(
            client_id="4242", client_secret="bench-secret", tokens=tokens, base_url=fake.url
        ) as provider:
            yield provider


@contextmanager
def ridewithgps(now: datetime, count: int) -> Iterator[Provider]:
    trips = [rwgps_trip(3000 + n, start, zone) for n, start, zone in _starts(now, count)]
    with RideWithGpsFake() as fake:
        fake.seed(
            api_keys=["bench-key"],
            auth_tokens={"bench-token": USER_ID},
            gear=[{"id": 55, "nickname": "Road bike"}],
            trips=trips,
        )
        with RideWithGpsProvider(
            api_key="bench-key",
            auth_token="bench-token",
            user_id=str(USER_ID),
            base_url=fake.url,
        ) as provider:
            yield provider


PROVIDERS: dict[str, Setup] = {
    "intervalsicu": intervals,
    "strava": strava,
    "ridewithgps": ridewithgps,
}


# -- measuring --------------------------------------------------------------------------------


def _timed(run: Callable[[], SyncReport]) -> tuple[SyncReport, float]:
    start = time.perf_counter()
    report = run()
    return report, time.perf_counter() - start


def measure(name: str, setup: Setup, count: int, folder: Path) -> Figures:
    now = datetime.now(UTC).replace(microsecond=0)
    db = Database(sqlite_url(folder / f"{name}.sqlite3"))
    try:
        with setup(now, count) as provider:
            first, first_s = _timed(lambda: sync_provider(db, provider))
            if first.failed or first.new != count:
                raise SystemExit(f"{name}: the first sync did not finish: {first.as_json()}")
            again, again_s = _timed(lambda: sync_provider(db, provider))
            month = (now - timedelta(days=60)).replace(day=1)
            repull = sync_month(db, provider, month.year, month.month)
    finally:
        db.dispose()
    return Figures(
        provider=name,
        activities=first.new,
        first_requests=first.requests,
        first_seconds=round(first_s, 3),
        up_to_date_requests=again.requests,
        up_to_date_seconds=round(again_s, 3),
        month_requests=repull.requests,
    )


def _print(figures: list[Figures], count: int) -> None:
    print(
        f"First sync of a {count:,}-activity history, then an up-to-date sync (fakes on 127.0.0.1)"
    )
    header = (
        f"{'provider':<14}{'first: requests':>16}{'seconds':>9}{'up to date: requests':>22}"
        f"{'seconds':>9}{'month re-pull':>15}  target"
    )
    print(header)
    print("-" * len(header))
    for f in figures:
        mark = "ok" if f.meets_target else f"MISSED (> {TARGET_UP_TO_DATE_REQUESTS})"
        print(
            f"{f.provider:<14}{f.first_requests!s:>16}{f.first_seconds:>9.2f}"
            f"{f.up_to_date_requests!s:>22}{f.up_to_date_seconds:>9.3f}"
            f"{f.month_requests!s:>15}  {mark}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--activities", type=int, default=2000, metavar="N")
    parser.add_argument(
        "--provider", action="append", choices=sorted(PROVIDERS), help="only these (repeatable)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per fake request
    chosen = args.provider or list(PROVIDERS)
    with tempfile.TemporaryDirectory(prefix="tracekit-bench-sync-") as folder:
        figures = [measure(n, PROVIDERS[n], args.activities, Path(folder)) for n in chosen]
    if args.json:
        payload: dict[str, Any] = {
            "activities": args.activities,
            "target_up_to_date_requests": TARGET_UP_TO_DATE_REQUESTS,
            "providers": [asdict(f) | {"meets_target": f.meets_target} for f in figures],
        }
        print(json.dumps(payload, indent=2))
    else:
        _print(figures, args.activities)
    return 0 if all(f.meets_target for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
