"""Keeping an activity's cached columns in step with the records linked to it."""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from tracekit.authority import apply_authority, load_pins
from tracekit.gear_index import GearIndex
from tracekit.settings import load_settings
from tracekit.sports import Sport
from tracekit.store.models import Activity, ProviderRecord


def local_date_of(
    start_utc: datetime | None, start_local: datetime | None, zone: str | None
) -> date:
    """The calendar day of a session: its own local date wherever it happened.

    The local wall clock wins; else the instant in the session's zone; else the UTC date
    (never this computer's zone).
    """
    if start_local is not None:
        return start_local.date()
    if start_utc is None:
        raise ValueError("a session needs a start instant or a local start")
    if zone:
        try:
            return start_utc.astimezone(ZoneInfo(zone)).date()
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return start_utc.astimezone(UTC).date()


def _first[T](values: Sequence[T | None]) -> T | None:
    return next((v for v in values if v is not None), None)


def refresh_activity(activity: Activity, records: Sequence[ProviderRecord], now: datetime) -> None:
    """Recompute the activity's cached values from its records, most precise record first.

    A record with an instant outranks a local-only or date-only record for time fields.
    """
    ordered = sorted(records, key=lambda r: (bool(r.date_only), r.start_utc is None, r.id or 0))
    activity.start_utc = _first([r.start_utc for r in ordered])
    activity.timezone = _first([r.timezone for r in ordered])
    activity.start_local = _first([r.start_local for r in ordered])
    activity.date_only = all(bool(r.date_only) for r in ordered)
    activity.local_date = local_date_of(activity.start_utc, activity.start_local, activity.timezone)
    activity.sport = next((r.sport for r in ordered if r.sport is not Sport.OTHER), Sport.OTHER)
    activity.name = _first([r.name for r in ordered])
    activity.distance_m = _first([r.distance_m for r in ordered])
    activity.elapsed_s = _first([r.elapsed_s for r in ordered])
    activity.moving_s = _first([r.moving_s for r in ordered])
    activity.updated_at = now


class ActivityRefresher:
    """Recomputes activities' cached columns within one session: times by the rules above,
    name and sport by authority (pins, priorities, default names). Settings and the gear list
    are loaded once, so refreshing hundreds of activities after a rematch stays cheap."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._settings = load_settings(session)
        self._gear = GearIndex.load(session)

    def refresh(self, activity: Activity, now: datetime) -> None:
        records = list(activity.records)
        refresh_activity(activity, records, now)
        pins = load_pins(self._session, [activity.id]).get(activity.id, [])
        apply_authority(activity, records, pins, self._settings, self._gear, now)
