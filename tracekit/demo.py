"""Generated demo data: a few months of one athlete's training as several providers see it.

Built in code (no copied files) so a new user sees a realistic calendar within seconds: commutes,
long rides, runs, strength and yoga, a week of travel in Tokyo, and the disagreements Tracekit
exists to fix — generic names, missing gear, a session one provider never got. The newest
month's rides and runs also exist as real FIT/GPX files that go through the normal import.
"""

import random
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from tracekit.calendar import YearMonth
from tracekit.files.fit_writer import write_activity
from tracekit.files.gpx_writer import gpx_bytes
from tracekit.files.importer import FileImporter
from tracekit.geo import loop_route
from tracekit.linking import rematch
from tracekit.providers.connections import setting_key
from tracekit.providers.names import ProviderName
from tracekit.providers.registry import DEMO
from tracekit.sports import Sport
from tracekit.store.canonical import refresh_activity
from tracekit.store.engine import Database
from tracekit.store.models import (
    Activity,
    Gear,
    ProviderGear,
    ProviderRecord,
    ProviderState,
    ProviderStatus,
    Setting,
    SyncState,
)
from tracekit.units import METRES_PER_MILE

HOME = ("Europe/Madrid", 41.9794, 2.8214)  # Girona
AWAY = ("Asia/Tokyo", 35.6812, 139.7671)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    activities: int
    records: int
    files: int


@dataclass
class Session:
    """One real session, before any provider has seen it."""

    start_utc: datetime
    zone: str
    lat: float
    lon: float
    sport: Sport
    elapsed_s: float
    distance_m: float | None
    typed_name: str | None  # what the athlete typed somewhere, if anything
    gear: str | None

    @property
    def start_local(self) -> datetime:
        return self.start_utc.astimezone(ZoneInfo(self.zone)).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class DemoGear:
    kind: str
    ids: dict[ProviderName, str]


GEAR = {
    "Grey gravel bike": DemoGear(
        "bike",
        {ProviderName.STRAVA: "b1001", ProviderName.GARMIN: "701", ProviderName.RIDEWITHGPS: "31"},
    ),
    "Red road bike": DemoGear(
        "bike",
        {ProviderName.STRAVA: "b1002", ProviderName.GARMIN: "702", ProviderName.RIDEWITHGPS: "32"},
    ),
    "Trail shoes": DemoGear("shoes", {ProviderName.STRAVA: "g2001", ProviderName.GARMIN: "703"}),
}

_GARMIN_DEFAULTS = {
    Sport.RIDE: "Girona Cycling",
    Sport.GRAVEL_RIDE: "Girona Gravel Cycling",
    Sport.RUN: "Girona Running",
    Sport.STRENGTH: "Strength",
    Sport.YOGA: "Yoga",
}


def _strava_default(session: Session) -> str:
    hour = session.start_local.hour
    part = "Morning" if hour < 12 else "Afternoon" if hour < 18 else "Evening"
    kind = {Sport.RUN: "Run", Sport.STRENGTH: "Weight Training", Sport.YOGA: "Yoga"}.get(
        session.sport, "Ride"
    )
    return f"{part} {kind}"


def _plan(first: date, last: date, rng: random.Random) -> Iterator[Session]:
    travel_start = first + timedelta(days=40)
    day = first
    while day <= last:
        away = travel_start <= day < travel_start + timedelta(days=6)
        zone, lat, lon = AWAY if away else HOME

        def at(hour: int, minute: int, day: date = day, zone: str = zone) -> datetime:
            return datetime.combine(day, time(hour, minute), ZoneInfo(zone)).astimezone(UTC)

        weekday = day.weekday()
        if away:
            if weekday != 2:
                yield Session(
                    at(6, 30),
                    zone,
                    lat,
                    lon,
                    Sport.RUN,
                    rng.uniform(2400, 3300),
                    rng.uniform(7000, 9500),
                    rng.choice([None, "Imperial Palace loop"]),
                    "Trail shoes",
                )
        elif weekday in (1, 3):
            for hour, minute, label in ((8, 5, "Commute in"), (17, 40, "Commute home")):
                yield Session(
                    at(hour, minute + rng.randint(0, 9)),
                    zone,
                    lat,
                    lon,
                    Sport.RIDE,
                    rng.uniform(1750, 1950),
                    rng.uniform(12200, 12600),
                    label,
                    "Red road bike",
                )
        elif weekday == 0 and rng.random() < 0.8:
            yield Session(
                at(19, 0),
                zone,
                lat,
                lon,
                Sport.STRENGTH,
                rng.uniform(2400, 3000),
                None,
                "Gym: legs",
                None,
            )
        elif weekday == 2:
            km = rng.uniform(8, 12)
            yield Session(
                at(7, 0),
                zone,
                lat,
                lon,
                Sport.RUN,
                km * rng.uniform(300, 330),
                km * 1000,
                rng.choice([None, "Tempo run", "Easy run by the river"]),
                "Trail shoes",
            )
        elif weekday == 5:
            km = rng.uniform(60, 110)
            gravel = rng.random() < 0.5
            yield Session(
                at(9, 0),
                zone,
                lat,
                lon,
                Sport.GRAVEL_RIDE if gravel else Sport.RIDE,
                km * rng.uniform(120, 150),
                km * 1000,
                rng.choice(["Els Àngels climb", "Coast and back", None, "Gavarres gravel"]),
                "Grey gravel bike" if gravel else "Red road bike",
            )
        elif weekday == 6:
            if rng.random() < 0.6:
                km = rng.uniform(14, 21)
                yield Session(
                    at(8, 30),
                    zone,
                    lat,
                    lon,
                    Sport.RUN,
                    km * rng.uniform(310, 340),
                    km * 1000,
                    rng.choice(["Long run", None]),
                    "Trail shoes",
                )
            yield Session(
                at(18, 30),
                zone,
                lat,
                lon,
                Sport.YOGA,
                1800,
                None,
                None,
                None,
            )
        day += timedelta(days=1)


def _providers_for(session: Session, rng: random.Random) -> set[ProviderName]:
    seen = {ProviderName.GARMIN, ProviderName.INTERVALSICU, ProviderName.SPREADSHEET}
    if session.sport is not Sport.YOGA:
        seen.add(ProviderName.STRAVA)
    if session.sport in (Sport.RIDE, Sport.GRAVEL_RIDE) and rng.random() < 0.85:
        seen.add(ProviderName.RIDEWITHGPS)
    if rng.random() < 0.08:  # a provider that never got this one
        seen.discard(rng.choice(sorted(seen)))
    return seen


def _record(
    session: Session,
    provider: ProviderName,
    index: int,
    rng: random.Random,
    now: datetime,
    watch: ProviderRecord | None,
) -> ProviderRecord:
    """One provider's view of a session. intervals.icu and the training log copy the watch's
    numbers (the log to the second and 0.01 mile), as they do in real life; the others measure
    on their own."""
    jitter = timedelta(seconds=rng.randint(0, 15))
    start_utc = session.start_utc + jitter
    distance = session.distance_m
    if distance is not None:
        distance *= rng.uniform(0.985, 1.015)
    elapsed = session.elapsed_s
    copies_watch = provider in (ProviderName.INTERVALSICU, ProviderName.SPREADSHEET)
    if watch is not None and copies_watch:
        distance, elapsed = watch.distance_m, watch.elapsed_s or elapsed
    gear = session.gear
    if provider is ProviderName.RIDEWITHGPS:  # the bike computer is started a bit later
        start_utc += timedelta(seconds=rng.randint(40, 150))
        elapsed -= rng.randint(60, 200)
    ids = {
        ProviderName.GARMIN: str(17_000_000_000 + index * 7),
        ProviderName.STRAVA: str(12_400_000_000 + index * 13),
        ProviderName.INTERVALSICU: f"i{48_000_000 + index * 3}",
        ProviderName.RIDEWITHGPS: str(310_000_000 + index * 11),
        ProviderName.SPREADSHEET: f"row-{index:05d}",
    }
    name: str | None = session.typed_name
    if provider is ProviderName.GARMIN and rng.random() < 0.5:
        name = _GARMIN_DEFAULTS.get(session.sport, name)
    if provider is ProviderName.STRAVA and (name is None or rng.random() < 0.3):
        name = _strava_default(session)
    if provider in (ProviderName.STRAVA, ProviderName.RIDEWITHGPS) and rng.random() < 0.15:
        gear = None  # the usual forgotten gear
    record = ProviderRecord(
        provider=provider,
        provider_id=ids[provider],
        sport=session.sport,
        raw_type=session.sport.value,
        name=name,
        elapsed_s=round(elapsed),
        moving_s=round(elapsed * 0.93),
        distance_m=distance,
        gear_name=gear,
        gear_id=GEAR[gear].ids.get(provider) if gear else None,
        start_lat=session.lat if distance else None,
        start_lon=session.lon if distance else None,
        payload={"generated": True},
        fetched_at=now,
        changed_at=now,
    )
    local = start_utc.astimezone(ZoneInfo(session.zone)).replace(tzinfo=None)
    if provider is ProviderName.SPREADSHEET:
        record.date_only = True
        record.start_local = datetime.combine(local.date(), time())
        if distance is not None:  # the log keeps miles with two decimals
            record.distance_m = round(distance / METRES_PER_MILE, 2) * METRES_PER_MILE
    elif provider is ProviderName.GARMIN:
        record.start_utc, record.start_local = start_utc, local
    else:
        record.start_utc, record.start_local, record.timezone = start_utc, local, session.zone
    return record


def build_demo(
    db: Database, archive_dir: Path, *, months: int = 4, seed: int = 7, today: date | None = None
) -> DemoSummary:
    """Fill `db` as if each provider had been synced and the files imported, then let the real
    matcher link the records — the demo shows Tracekit's own matching, not a staged result."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    today = today or now.date()
    first = YearMonth.of(today).shifted(-(months - 1)).first_day
    sessions = list(_plan(first, today, rng))
    with db.session() as session:
        _add_gear(session)
        for index, planned in enumerate(sessions):
            watch: ProviderRecord | None = None
            for provider in sorted(_providers_for(planned, rng)):  # garmin first: others copy it
                record = _record(planned, provider, index, rng, now, watch)
                if provider is ProviderName.GARMIN:
                    watch = record
                activity = Activity(created_at=now)
                record.activity = activity
                refresh_activity(activity, [record], now)
                session.add_all([activity, record])
        for provider in ProviderName:
            if provider is not ProviderName.FILE:
                session.add(
                    SyncState(
                        provider=provider,
                        pulled_from=datetime.combine(first, time(), UTC),
                        pulled_to=now,
                        last_sync_at=now,
                    )
                )
                # Simulated connections: review → apply → undo can be tried on the demo.
                session.add(Setting(key=setting_key(provider), value={DEMO: True}))
                session.add(
                    ProviderStatus(
                        provider=provider,
                        state=ProviderState.OK,
                        last_operation="sync",
                        last_operation_at=now,
                        last_success_at=now,
                    )
                )
    files = _import_recent_files(db, archive_dir, sessions, today, rng)
    rematch(db)
    with db.session() as session:
        activities = session.scalar(select(func.count()).select_from(Activity)) or 0
        records = session.scalar(select(func.count()).select_from(ProviderRecord)) or 0
    return DemoSummary(activities=activities, records=records, files=files)


def _add_gear(session: DbSession) -> None:
    for gear_name, demo_gear in GEAR.items():
        gear = Gear(name=gear_name, kind=demo_gear.kind)
        session.add(gear)
        session.flush()
        session.add_all(
            ProviderGear(
                provider=provider,
                provider_gear_id=provider_gear_id,
                name=gear_name,
                kind=demo_gear.kind,
                gear_id=gear.id,
            )
            for provider, provider_gear_id in demo_gear.ids.items()
        )


def _import_recent_files(
    db: Database, archive_dir: Path, sessions: list[Session], today: date, rng: random.Random
) -> int:
    """The newest month's outdoor sessions as real FIT (rides) and GPX (runs) files, imported."""
    scratch = Path(tempfile.mkdtemp(prefix="tracekit-demo-"))
    try:
        for planned in sessions:
            if planned.distance_m and planned.start_local.date() >= today.replace(day=1):
                _write_file(scratch, planned, rng)
        report = FileImporter(db, archive_dir).run([scratch])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return len(report.imported)


def _write_file(folder: Path, planned: Session, rng: random.Random) -> Path:
    assert planned.distance_m is not None
    route = loop_route(
        planned.lat, planned.lon, planned.distance_m, 240, wobble=rng.uniform(0, 0.25)
    )
    stamp = planned.start_local.strftime("%Y-%m-%d-%H%M")
    if planned.sport is Sport.RUN:
        path = folder / f"{stamp}-run.gpx"
        path.write_bytes(
            gpx_bytes(
                planned.start_utc,
                route,
                step_s=planned.elapsed_s / len(route),
                name=planned.typed_name,
                kind="running",
                creator="Demo watch",
            )
        )
        return path
    path = folder / f"{stamp}-ride.fit"
    offset = planned.start_utc.astimezone(ZoneInfo(planned.zone)).utcoffset() or timedelta()
    write_activity(
        path,
        start_utc=planned.start_utc,
        sport="cycling",
        sub_sport="gravel_cycling" if planned.sport is Sport.GRAVEL_RIDE else "road",
        elapsed_s=planned.elapsed_s,
        distance_m=planned.distance_m,
        points=route,
        utc_offset_s=int(offset.total_seconds()),
    )
    return path
