"""Pinning: the user fixes an activity's value, and it beats every provider's from then on.

Pinning (or unpinning) refreshes the activity at once, so the calendar shows the pinned value
and the next review proposes it to every provider that differs.
"""

from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tracekit.changes import Field
from tracekit.store.canonical import ActivityRefresher
from tracekit.store.engine import Database
from tracekit.store.models import Activity, Pin

PINNABLE = (Field.NAME, Field.DESCRIPTION, Field.GEAR)


def pin_value(db: Database, activity_id: int, field: Field, value: str | None) -> None:
    """Pin `value` (None or blank: "no value on purpose") for one field of one activity."""
    if field not in PINNABLE:
        raise ValueError(f"{field.value} cannot be pinned")
    now = datetime.now(UTC)
    cleaned = value.strip() if value and value.strip() else None
    with db.session() as session:
        activity = _activity(session, activity_id)
        pin = session.scalars(
            select(Pin).where(Pin.activity_id == activity_id, Pin.field == field.value)
        ).one_or_none()
        if pin is None:
            session.add(
                Pin(activity_id=activity_id, field=field.value, value=cleaned, pinned_at=now)
            )
        else:
            pin.value, pin.pinned_at = cleaned, now
        session.flush()
        ActivityRefresher(session).refresh(activity, now)


def unpin(db: Database, activity_id: int, field: Field) -> None:
    now = datetime.now(UTC)
    with db.session() as session:
        activity = _activity(session, activity_id)
        session.execute(delete(Pin).where(Pin.activity_id == activity_id, Pin.field == field.value))
        ActivityRefresher(session).refresh(activity, now)


def pinned(db: Database, activity_id: int) -> dict[Field, str | None]:
    with db.session() as session:
        return {
            Field(pin.field): pin.value
            for pin in session.scalars(select(Pin).where(Pin.activity_id == activity_id))
        }


def _activity(session: Session, activity_id: int) -> Activity:
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise ValueError(f"no activity {activity_id}")
    return activity
