"""Read models the window shows beside the month calendar, free of Qt.

Training stats (distance and time per week or month and per sport over a year), distance per
piece of gear with the activities that lack gear, the month grid (weeks in the user's week
order, with week totals), one activity's detail (canonical values beside each provider's
record, how each record was linked, the simplified track), the provider panel's rows and the
in-app notifications. Every function takes a session and returns frozen values, so the window
only presents them and tests can check them without a display.

Days are each activity's own local date (`Activity.local_date`), as in `tracekit.calendar`.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracekit.calendar import MonthView, Totals, YearMonth
from tracekit.providers.names import ProviderName
from tracekit.settings import Settings
from tracekit.sports import FAMILY, Sport, SportFamily
from tracekit.store.models import (
    Activity,
    Gear,
    Notification,
    Pin,
    ProviderGear,
    ProviderRecord,
    ProviderState,
    ProviderStatus,
    ReviewFlag,
    SyncState,
)
from tracekit.units import UnitSystem, format_distance, format_duration

# ---------------------------------------------------------------------------------------------
# The month grid


@dataclass(frozen=True, slots=True)
class Week:
    """Seven consecutive days, the locale's first weekday first, with the totals of the
    activities on those days that belong to the month shown."""

    days: tuple[date, ...]
    totals: Totals


@dataclass(frozen=True, slots=True)
class MonthGrid:
    month: YearMonth
    weeks: tuple[Week, ...]
    totals: Totals


def week_start(day: date, first_weekday: int) -> date:
    """The first day of `day`'s week; `first_weekday` is 0 for Monday … 6 for Sunday."""
    return day - timedelta(days=(day.weekday() - first_weekday) % 7)


def month_grid(view: MonthView, first_weekday: int = 0) -> MonthGrid:
    """The weeks that cover `view`'s month (4 to 6), each with its totals."""
    if not 0 <= first_weekday <= 6:
        raise ValueError(f"first_weekday must be 0..6, not {first_weekday}")
    start = week_start(view.month.first_day, first_weekday)
    weeks: list[Week] = []
    while start <= view.month.last_day:
        days = tuple(start + timedelta(days=i) for i in range(7))
        entries = [entry for day in days for entry in view.days.get(day, ())]
        weeks.append(
            Week(
                days,
                Totals(
                    count=len(entries),
                    distance_m=sum(e.distance_m or 0.0 for e in entries),
                    elapsed_s=sum(e.elapsed_s or 0.0 for e in entries),
                ),
            )
        )
        start += timedelta(days=7)
    return MonthGrid(view.month, tuple(weeks), view.totals)


def year_totals(session: Session, year: int) -> Totals:
    """Count, distance and time of every activity whose local date falls in `year`."""
    count, distance, elapsed = session.execute(
        select(
            func.count(Activity.id),
            func.coalesce(func.sum(Activity.distance_m), 0.0),
            func.coalesce(func.sum(Activity.elapsed_s), 0.0),
        ).where(Activity.local_date.between(date(year, 1, 1), date(year, 12, 31)))
    ).one()
    return Totals(
        count=int(count), distance_m=float(distance or 0.0), elapsed_s=float(elapsed or 0.0)
    )


def years_with_data(session: Session) -> tuple[int, ...]:
    """Every year from the oldest to the newest activity (empty when the store is)."""
    oldest, newest = session.execute(
        select(func.min(Activity.local_date), func.max(Activity.local_date))
    ).one()
    if oldest is None or newest is None:
        return ()
    return tuple(range(oldest.year, newest.year + 1))


# ---------------------------------------------------------------------------------------------
# Training stats per period and per sport


class Period(StrEnum):
    WEEK = "week"
    MONTH = "month"


class Grouping(StrEnum):
    SPORT = "sport"
    FAMILY = "family"


@dataclass(frozen=True, slots=True)
class Amount:
    count: int = 0
    distance_m: float = 0.0
    elapsed_s: float = 0.0

    def __add__(self, other: "Amount") -> "Amount":
        return Amount(
            self.count + other.count,
            self.distance_m + other.distance_m,
            self.elapsed_s + other.elapsed_s,
        )


@dataclass(frozen=True, slots=True)
class Bucket:
    """One week or month: its first and last day, and the amounts per group."""

    start: date
    end: date
    label: str
    amounts: Mapping[str, Amount]
    total: Amount


@dataclass(frozen=True, slots=True)
class PeriodStats:
    year: int
    period: Period
    grouping: Grouping
    groups: tuple[str, ...]  # every group with activities, the largest (by distance, time) first
    buckets: tuple[Bucket, ...]
    totals: Mapping[str, Amount]
    total: Amount


_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _group_of(sport: Sport, grouping: Grouping) -> str:
    return FAMILY[sport].value if grouping is Grouping.FAMILY else sport.value


def period_stats(
    session: Session,
    year: int,
    period: Period = Period.MONTH,
    grouping: Grouping = Grouping.FAMILY,
    first_weekday: int = 0,
) -> PeriodStats:
    """Distance, time and count per week or month of `year`, split by sport or sport family.

    Weeks start on `first_weekday` (0 Monday … 6 Sunday); the first and last week may begin
    or end outside the year, but only the year's own days are counted.
    """
    rows = session.execute(
        select(Activity.local_date, Activity.sport, Activity.distance_m, Activity.elapsed_s).where(
            Activity.local_date.between(date(year, 1, 1), date(year, 12, 31))
        )
    ).all()
    spans = _spans(year, period, first_weekday)
    index = {start: i for i, (start, _end, _label) in enumerate(spans)}
    per_bucket: list[dict[str, Amount]] = [defaultdict(Amount) for _ in spans]
    totals: dict[str, Amount] = defaultdict(Amount)
    for local_date, sport, distance, elapsed in rows:
        key = (
            week_start(local_date, first_weekday)
            if period is Period.WEEK
            else local_date.replace(day=1)
        )
        group = _group_of(sport, grouping)
        amount = Amount(1, distance or 0.0, elapsed or 0.0)
        per_bucket[index[key]][group] += amount
        totals[group] += amount
    groups = tuple(sorted(totals, key=lambda g: (-totals[g].distance_m, -totals[g].elapsed_s, g)))
    buckets = tuple(
        Bucket(start, end, label, dict(amounts), sum(amounts.values(), Amount()))
        for (start, end, label), amounts in zip(spans, per_bucket, strict=True)
    )
    return PeriodStats(
        year=year,
        period=period,
        grouping=grouping,
        groups=groups,
        buckets=buckets,
        totals=dict(totals),
        total=sum(totals.values(), Amount()),
    )


def _spans(year: int, period: Period, first_weekday: int) -> list[tuple[date, date, str]]:
    if period is Period.MONTH:
        return [
            (
                YearMonth(year, m).first_day,
                YearMonth(year, m).last_day,
                _MONTH_ABBR[m - 1],
            )
            for m in range(1, 13)
        ]
    spans = []
    start = week_start(date(year, 1, 1), first_weekday)
    number = 1
    while start.year <= year:
        spans.append((start, start + timedelta(days=6), f"W{number}"))
        start += timedelta(days=7)
        number += 1
    return spans


# ---------------------------------------------------------------------------------------------
# Gear

# Sports where a session without gear is worth pointing out (a bike, a pair of shoes).
GEAR_FAMILIES = frozenset({SportFamily.CYCLING, SportFamily.RUNNING})


@dataclass(frozen=True, slots=True)
class GearUsage:
    name: str
    kind: str | None
    retired: bool
    amount: Amount


@dataclass(frozen=True, slots=True)
class MissingGear:
    activity_id: int
    local_date: date
    name: str | None
    sport: Sport
    distance_m: float | None


@dataclass(frozen=True, slots=True)
class GearReport:
    year: int | None
    gear: tuple[GearUsage, ...]  # most distance first
    missing: tuple[MissingGear, ...]  # newest first


@dataclass(frozen=True, slots=True)
class _GearName:
    name: str
    kind: str | None
    retired: bool


def _gear_names(session: Session) -> dict[tuple[ProviderName, str], _GearName]:
    """(provider, provider gear id) → the canonical gear it maps onto (else its own name)."""
    canonical = {g.id: g for g in session.scalars(select(Gear))}
    names: dict[tuple[ProviderName, str], _GearName] = {}
    for pg in session.scalars(select(ProviderGear)):
        gear = canonical.get(pg.gear_id) if pg.gear_id is not None else None
        names[(pg.provider, pg.provider_gear_id)] = (
            _GearName(gear.name, gear.kind, gear.retired)
            if gear is not None
            else _GearName(pg.name, pg.kind, pg.retired)
        )
    return names


def _record_gear(
    provider: ProviderName,
    gear_id: str | None,
    gear_name: str | None,
    names: Mapping[tuple[ProviderName, str], _GearName],
) -> _GearName | None:
    if gear_id is not None and (provider, gear_id) in names:
        return names[(provider, gear_id)]
    if gear_name:
        return _GearName(gear_name, None, False)
    return None


def gear_report(session: Session, settings: Settings, year: int | None = None) -> GearReport:
    """Distance and time per piece of gear, and the cycling/running activities without any.

    An activity's gear is its pinned gear, else that of its highest-priority source record
    that names one (write-only providers are not sources).
    """
    query = select(
        Activity.id,
        Activity.local_date,
        Activity.name,
        Activity.sport,
        Activity.distance_m,
        Activity.elapsed_s,
    )
    records_query = select(
        ProviderRecord.activity_id,
        ProviderRecord.provider,
        ProviderRecord.gear_id,
        ProviderRecord.gear_name,
    ).join(Activity, Activity.id == ProviderRecord.activity_id)
    pins_query = select(Pin.activity_id, Pin.value).where(Pin.field == "gear")
    if year is not None:
        span = (date(year, 1, 1), date(year, 12, 31))
        query = query.where(Activity.local_date.between(*span))
        records_query = records_query.where(Activity.local_date.between(*span))
        pins_query = pins_query.join(Activity, Activity.id == Pin.activity_id).where(
            Activity.local_date.between(*span)
        )
    names = _gear_names(session)
    candidates: dict[int, list[tuple[int, _GearName]]] = defaultdict(list)
    for activity_id, provider, gear_id, gear_name in session.execute(records_query):
        if activity_id is None or not settings.is_source(provider):
            continue
        found = _record_gear(provider, gear_id, gear_name, names)
        if found is not None:
            candidates[activity_id].append((settings.rank(provider), found))
    pinned = {
        activity_id: _GearName(str(value), None, False)
        for activity_id, value in session.execute(pins_query)
        if value
    }
    usage: dict[str, tuple[_GearName, Amount]] = {}
    missing: list[MissingGear] = []
    for activity_id, local_date, name, sport, distance, elapsed in session.execute(query):
        gear = pinned.get(activity_id)
        if gear is None and candidates.get(activity_id):
            gear = min(candidates[activity_id], key=lambda pair: pair[0])[1]
        if gear is None:
            if FAMILY[sport] in GEAR_FAMILIES:
                missing.append(MissingGear(activity_id, local_date, name, sport, distance))
            continue
        known, amount = usage.get(gear.name, (gear, Amount()))
        usage[gear.name] = (known, amount + Amount(1, distance or 0.0, elapsed or 0.0))
    gear_rows = tuple(
        GearUsage(g.name, g.kind, g.retired, amount)
        for g, amount in sorted(usage.values(), key=lambda p: (-p[1].distance_m, p[0].name))
    )
    missing.sort(key=lambda m: (m.local_date, m.activity_id), reverse=True)
    return GearReport(year=year, gear=gear_rows, missing=tuple(missing))


# ---------------------------------------------------------------------------------------------
# One activity in detail

_PROVIDER_URLS: dict[ProviderName, str] = {
    ProviderName.STRAVA: "https://www.strava.com/activities/{id}",
    ProviderName.GARMIN: "https://connect.garmin.com/modern/activity/{id}",
    ProviderName.RIDEWITHGPS: "https://ridewithgps.com/trips/{id}",
    ProviderName.INTERVALSICU: "https://intervals.icu/activities/{id}",
}


def provider_url(provider: ProviderName, provider_id: str) -> str | None:
    """The provider's own page for one of its activities (None for files and the log)."""
    template = _PROVIDER_URLS.get(provider)
    return template.format(id=provider_id) if template else None


class DetailField(StrEnum):
    NAME = "name"
    SPORT = "sport"
    START = "start"
    TIMEZONE = "timezone"
    DISTANCE = "distance"
    ELAPSED = "elapsed"
    MOVING = "moving"
    GEAR = "gear"
    DESCRIPTION = "description"
    DEVICE = "device"
    AVG_HR = "avg_hr"
    ASCENT = "ascent"
    CALORIES = "calories"

    @property
    def label(self) -> str:
        return _FIELD_LABELS[self]


_FIELD_LABELS = {
    DetailField.NAME: "Name",
    DetailField.SPORT: "Sport",
    DetailField.START: "Start (local)",
    DetailField.TIMEZONE: "Time zone",
    DetailField.DISTANCE: "Distance",
    DetailField.ELAPSED: "Elapsed time",
    DetailField.MOVING: "Moving time",
    DetailField.GEAR: "Gear",
    DetailField.DESCRIPTION: "Description",
    DetailField.DEVICE: "Device",
    DetailField.AVG_HR: "Avg heart rate",
    DetailField.ASCENT: "Ascent",
    DetailField.CALORIES: "Calories",
}

# The fields a user can pin (they are the ones Tracekit may write to providers).
PINNABLE = frozenset({DetailField.NAME, DetailField.DESCRIPTION, DetailField.GEAR})


@dataclass(frozen=True, slots=True)
class RecordDetail:
    record_id: int
    provider: ProviderName
    provider_id: str
    url: str | None
    file_path: str | None
    is_source: bool
    link_origin: str
    link_score: float | None
    link_summary: str  # one line a person reads
    link_details: tuple[tuple[str, str], ...]  # (label, value) pairs from the explanation
    values: Mapping[DetailField, Any]
    has_track: bool


@dataclass(frozen=True, slots=True)
class FieldRow:
    """One line of the side-by-side table: the canonical value and each record's value."""

    field: DetailField
    canonical: str
    pinned: bool
    values: tuple[str, ...]  # one per record, in `ActivityDetail.records` order
    differs: tuple[bool, ...]  # the record's value is shown and is not the canonical one


@dataclass(frozen=True, slots=True)
class ActivityDetail:
    activity_id: int
    name: str | None
    sport: Sport
    local_date: date
    start_local: datetime | None
    timezone: str | None
    date_only: bool
    needs_review: bool
    distance_m: float | None
    elapsed_s: float | None
    records: tuple[RecordDetail, ...]  # by the user's provider priority
    rows: tuple[FieldRow, ...]
    pins: Mapping[str, Any]
    review: tuple[str, ...]  # messages of unresolved review flags on its records
    track: tuple[tuple[float, float], ...] = field(default=())
    track_provider: ProviderName | None = None


def _record_values(
    record: ProviderRecord, names: Mapping[tuple[ProviderName, str], _GearName]
) -> dict[DetailField, Any]:
    gear = _record_gear(record.provider, record.gear_id, record.gear_name, names)
    return {
        DetailField.NAME: record.name,
        DetailField.SPORT: record.sport,
        DetailField.START: record.start_local,
        DetailField.TIMEZONE: record.timezone,
        DetailField.DISTANCE: record.distance_m,
        DetailField.ELAPSED: record.elapsed_s,
        DetailField.MOVING: record.moving_s,
        DetailField.GEAR: gear.name if gear else None,
        DetailField.DESCRIPTION: record.description,
        DetailField.DEVICE: record.device,
        DetailField.AVG_HR: record.avg_hr,
        DetailField.ASCENT: record.ascent_m,
        DetailField.CALORIES: record.calories,
    }


def format_value(
    detail_field: DetailField, value: Any, units: UnitSystem, date_only: bool = False
) -> str:
    """A field's value as the detail pane shows it ("" when unknown)."""
    if value is None or value == "":
        return ""
    match detail_field:
        case DetailField.DISTANCE:
            return format_distance(float(value), units)
        case DetailField.ELAPSED | DetailField.MOVING:
            return format_duration(float(value))
        case DetailField.START:
            moment: datetime = value
            return f"{moment:%Y-%m-%d}" if date_only else f"{moment:%Y-%m-%d %H:%M}"
        case DetailField.SPORT:
            return str(value).replace("_", " ").capitalize()
        case DetailField.AVG_HR:
            return f"{float(value):.0f} bpm"
        case DetailField.ASCENT:
            if units is UnitSystem.IMPERIAL:
                return f"{float(value) / 0.3048:.0f} ft"
            return f"{float(value):.0f} m"
        case DetailField.CALORIES:
            return f"{float(value):.0f} kcal"
        case _:
            return str(value)


_EXPLANATION_LABELS = (
    ("basis", "compared on", str),
    ("start_delta_s", "start difference", lambda v: f"{float(v):.0f} s"),
    ("day_delta", "day difference", lambda v: f"{int(v):+d}"),
    ("offset_s", "assumed UTC offset", lambda v: _offset(float(v))),
    ("duration_delta_pct", "duration difference", lambda v: f"{float(v):.1f} %"),
    ("distance_delta_pct", "distance difference", lambda v: f"{float(v):.1f} %"),
    ("sport", "sport", str),
    ("evidence", "shared evidence", lambda v: _shorten(str(v))),
)


def _shorten(text: str, keep: int = 24) -> str:
    """Long tokens (a file's sha256) cut so they fit a narrow pane; the start identifies them."""
    return " ".join(w if len(w) <= keep else w[:keep] + "…" for w in text.split(" "))


def _offset(seconds: float) -> str:
    sign = "-" if seconds < 0 else "+"
    minutes = round(abs(seconds) / 60)
    return f"{sign}{minutes // 60}:{minutes % 60:02d}"


def describe_link(
    origin: str, score: float | None, explanation: Mapping[str, Any] | None
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A one-line summary of how a record was linked, and labelled details."""
    details: list[tuple[str, str]] = []
    if explanation:
        other = explanation.get("with")
        if isinstance(other, Mapping) and other.get("provider"):
            # The matcher may qualify a provider ("file:<checksum>" keeps files apart).
            name = str(other["provider"]).partition(":")[0]
            try:
                label = ProviderName(name).label
            except ValueError:
                label = name
            ident = _shorten(str(other.get("id", "")), 16)
            details.append(("linked with", f"{label} {ident}".strip()))
        for key, label, show in _EXPLANATION_LABELS:
            value = explanation.get(key)
            if value is not None:
                details.append((label, show(value)))
        penalties = explanation.get("penalties")
        if isinstance(penalties, Sequence) and penalties:
            parts = [
                f"{name} {float(cost):.2f}"
                for name, cost in (p for p in penalties if isinstance(p, Sequence) and len(p) == 2)
            ]
            if parts:
                details.append(("penalties", ", ".join(parts)))
    score_text = f" (score {score:.2f})" if score is not None else ""
    if origin == "user":
        summary = "Linked by you" + score_text
    elif origin == "matcher":
        reason = str(explanation.get("summary", "")) if explanation else ""
        summary = f"Matched automatically{score_text}" + (f": {reason}" if reason else "")
    else:
        summary = "Imported on its own (nothing matched it)"
    return summary, tuple(details)


def activity_detail(
    session: Session, activity_id: int, settings: Settings
) -> ActivityDetail | None:
    """Everything the detail pane shows for one activity, or None if it no longer exists."""
    activity = session.get(Activity, activity_id)
    if activity is None:
        return None
    records = sorted(
        session.scalars(select(ProviderRecord).where(ProviderRecord.activity_id == activity_id)),
        key=lambda r: (settings.rank(r.provider), r.id),
    )
    names = _gear_names(session)
    pins = {
        pin.field: pin.value
        for pin in session.scalars(select(Pin).where(Pin.activity_id == activity_id))
    }
    values = [_record_values(r, names) for r in records]
    canonical = _canonical(activity, records, values, settings)
    for pinned_field, value in pins.items():
        try:
            canonical[DetailField(pinned_field)] = value
        except ValueError:
            continue
    rows = []
    for detail_field in DetailField:
        shown = [
            format_value(detail_field, v[detail_field], settings.units, r.date_only)
            for r, v in zip(records, values, strict=True)
        ]
        main = format_value(
            detail_field, canonical.get(detail_field), settings.units, activity.date_only
        )
        if not main and not any(shown):
            continue
        rows.append(
            FieldRow(
                field=detail_field,
                canonical=main,
                pinned=detail_field.value in pins,
                values=tuple(shown),
                differs=tuple(bool(s) and s != main for s in shown),
            )
        )
    record_ids = {r.id for r in records}
    review = tuple(
        flag.message
        for flag in session.scalars(select(ReviewFlag).order_by(ReviewFlag.id))
        if record_ids & set(flag.record_ids)
    )
    track_record = next((r for r in records if r.track and len(r.track) >= 2), None)
    return ActivityDetail(
        activity_id=activity.id,
        name=canonical.get(DetailField.NAME) or activity.name,
        sport=activity.sport,
        local_date=activity.local_date,
        start_local=activity.start_local,
        timezone=activity.timezone,
        date_only=activity.date_only,
        needs_review=activity.needs_review,
        distance_m=activity.distance_m,
        elapsed_s=activity.elapsed_s,
        records=tuple(_record_detail(r, v, settings) for r, v in zip(records, values, strict=True)),
        rows=tuple(rows),
        pins=pins,
        review=review,
        track=tuple((float(p[0]), float(p[1])) for p in track_record.track or ())
        if track_record
        else (),
        track_provider=track_record.provider if track_record else None,
    )


def _canonical(
    activity: Activity,
    records: Sequence[ProviderRecord],
    values: Sequence[Mapping[DetailField, Any]],
    settings: Settings,
) -> dict[DetailField, Any]:
    """The activity's cached values, and for the other fields the first source record's."""
    canonical: dict[DetailField, Any] = {
        DetailField.NAME: activity.name,
        DetailField.SPORT: activity.sport,
        DetailField.START: activity.start_local,
        DetailField.TIMEZONE: activity.timezone,
        DetailField.DISTANCE: activity.distance_m,
        DetailField.ELAPSED: activity.elapsed_s,
        DetailField.MOVING: activity.moving_s,
    }
    for detail_field in DetailField:
        if detail_field in canonical:
            continue
        canonical[detail_field] = next(
            (
                v[detail_field]
                for r, v in zip(records, values, strict=True)
                if settings.is_source(r.provider) and v[detail_field] not in (None, "")
            ),
            None,
        )
    return canonical


def _record_detail(
    record: ProviderRecord, values: Mapping[DetailField, Any], settings: Settings
) -> RecordDetail:
    origin = record.link_origin.value if record.link_origin else "import"
    summary, details = describe_link(origin, record.link_score, record.link_explanation)
    return RecordDetail(
        record_id=record.id,
        provider=record.provider,
        provider_id=record.provider_id,
        url=provider_url(record.provider, record.provider_id),
        file_path=record.file_path,
        is_source=settings.is_source(record.provider),
        link_origin=origin,
        link_score=record.link_score,
        link_summary=summary,
        link_details=details,
        values=values,
        has_track=bool(record.track),
    )


@dataclass(frozen=True, slots=True)
class LinkCandidate:
    """A record of another activity near this one in time: something it might be linked to."""

    record_id: int
    activity_id: int | None
    provider: ProviderName
    provider_id: str
    name: str | None
    sport: Sport
    start_local: datetime | None
    distance_m: float | None
    elapsed_s: float | None


def link_candidates(session: Session, activity_id: int, days: int = 1) -> tuple[LinkCandidate, ...]:
    """Records within `days` of the activity's local date that belong to other activities."""
    activity = session.get(Activity, activity_id)
    if activity is None:
        return ()
    low = activity.local_date - timedelta(days=days)
    high = activity.local_date + timedelta(days=days)
    rows = session.scalars(
        select(ProviderRecord)
        .join(Activity, Activity.id == ProviderRecord.activity_id)
        .where(Activity.local_date.between(low, high), Activity.id != activity_id)
        .order_by(Activity.local_date, ProviderRecord.start_local, ProviderRecord.id)
    )
    return tuple(
        LinkCandidate(
            record_id=r.id,
            activity_id=r.activity_id,
            provider=r.provider,
            provider_id=r.provider_id,
            name=r.name,
            sport=r.sport,
            start_local=r.start_local,
            distance_m=r.distance_m,
            elapsed_s=r.elapsed_s,
        )
        for r in rows
    )


def newest_activity(session: Session, activity_ids: Iterable[int]) -> tuple[int, date] | None:
    """The newest (by local date and start) of these activities that still exists."""
    ids = list(set(activity_ids))
    if not ids:
        return None
    row = session.execute(
        select(Activity.id, Activity.local_date)
        .where(Activity.id.in_(ids))
        .order_by(
            Activity.local_date.desc(),
            Activity.start_local.desc(),
            Activity.start_utc.desc(),
            Activity.id.desc(),
        )
        .limit(1)
    ).first()
    return (row.id, row.local_date) if row else None


# ---------------------------------------------------------------------------------------------
# Providers and notifications


@dataclass(frozen=True, slots=True)
class ProviderRow:
    provider: ProviderName
    records: int
    state: ProviderState
    last_sync_at: datetime | None
    last_success_at: datetime | None
    rate_limited_until: datetime | None
    error: str | None
    configured: bool = False  # a connection is stored (Settings → Providers → Connect)
    simulated: bool = False  # the demo database's stand-in for the service (no account)

    @property
    def connected(self) -> bool:
        return self.configured and self.state is not ProviderState.DISCONNECTED

    def rate_limited(self, now: datetime) -> bool:
        return self.rate_limited_until is not None and self.rate_limited_until > now

    def describe(self, now: datetime) -> str:
        """The state as the provider panel and the tray tooltip word it (local clock times)."""
        if self.provider is ProviderName.FILE:
            return f"{self.records} imported" if self.records else "Drop files to import"
        if self.rate_limited(now):
            assert self.rate_limited_until is not None
            return f"Rate-limited until {self.rate_limited_until.astimezone():%H:%M}"
        match self.state:
            case ProviderState.SYNCING:
                return "Syncing…"
            case ProviderState.RECONNECT_NEEDED:
                return "Reconnect needed"
            case ProviderState.ERROR:
                return f"Error: {self.error}" if self.error else "Error"
        synced = f"last sync {_when(self.last_sync_at, now)}" if self.last_sync_at else ""
        if not self.connected:
            return "Not connected" + (f" · {synced}" if synced else "")
        return synced.capitalize() if synced else "Connected · never synced"


def _when(moment: datetime, now: datetime) -> str:
    local = moment.astimezone()
    if local.date() == now.astimezone().date():
        return f"today {local:%H:%M}"
    if local.date() == (now.astimezone() - timedelta(days=1)).date():
        return f"yesterday {local:%H:%M}"
    return f"{local:%Y-%m-%d %H:%M}"


def provider_overview(session: Session) -> tuple[ProviderRow, ...]:
    """One row per provider Tracekit knows, in `ProviderName` order."""
    counts = {
        provider: int(count)
        for provider, count in session.execute(
            select(ProviderRecord.provider, func.count()).group_by(ProviderRecord.provider)
        )
    }
    syncs = {s.provider: s for s in session.scalars(select(SyncState))}
    statuses = {s.provider: s for s in session.scalars(select(ProviderStatus))}
    configured, simulated = _connections(session)
    rows = []
    for name in ProviderName:
        status = statuses.get(name)
        sync = syncs.get(name)
        state = status.state if status else ProviderState.DISCONNECTED
        if status is None and name in configured:
            state = ProviderState.OK
        rows.append(
            ProviderRow(
                provider=name,
                records=counts.get(name, 0),
                state=state,
                last_sync_at=sync.last_sync_at if sync else None,
                last_success_at=status.last_success_at if status else None,
                rate_limited_until=status.rate_limited_until if status else None,
                error=status.error if status else None,
                configured=name in configured,
                simulated=name in simulated,
            )
        )
    return tuple(rows)


def _connections(session: Session) -> tuple[frozenset[ProviderName], frozenset[ProviderName]]:
    """(providers with a stored connection, the demo's simulated ones)."""
    from tracekit.providers.registry import DEMO, connection_settings  # the providers load late

    stored = {n: connection_settings(session, n) for n in ProviderName}
    configured = frozenset(n for n, s in stored.items() if s is not None)
    simulated = frozenset(n for n, s in stored.items() if s is not None and s.get(DEMO))
    return configured, simulated


@dataclass(frozen=True, slots=True)
class NotificationItem:
    id: int
    created_at: datetime
    level: str
    message: str
    provider: ProviderName | None
    read: bool


def notifications(
    session: Session, *, after_id: int = 0, limit: int = 100
) -> tuple[NotificationItem, ...]:
    """The newest notifications (newest first), only those with an id above `after_id`."""
    rows = session.scalars(
        select(Notification)
        .where(Notification.id > after_id)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return tuple(
        NotificationItem(
            id=n.id,
            created_at=n.created_at,
            level=n.level.value,
            message=n.message,
            provider=n.provider,
            read=n.read,
        )
        for n in rows
    )


def utc_now() -> datetime:
    return datetime.now(UTC)
