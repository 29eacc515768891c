"""Typed ORM models.

A `ProviderRecord` is what one provider knows about one session (SI units, UTC instant plus the
zone and local wall clock it gave, raw payload). An `Activity` is the one real session those
records describe; its columns are a cached view of the authoritative values so the calendar can
read a month without touching records. How a record came to be linked (matcher score and
explanation, or the user's decision) is kept on the record; standing user decisions about pairs
live in `MatchDecision` and win over the matcher.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from tracekit.changes import ChangeKind
from tracekit.providers.names import ProviderName
from tracekit.sports import Sport
from tracekit.store.types import UTCDateTime


def _enum[E: StrEnum](enum: type[E]) -> Enum:
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        ProviderName: _enum(ProviderName),
        Sport: _enum(Sport),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class LinkOrigin(StrEnum):
    IMPORT = "import"  # the record created its own activity (nothing matched yet)
    MATCHER = "matcher"  # the matcher linked it, with a score and an explanation
    USER = "user"  # the user linked it; the matcher never moves it


class MatchDecisionKind(StrEnum):
    LINK = "link"  # these two records are the same session
    NEVER = "never"  # these two records are never the same session
    ALONE = "alone"  # this record stands alone (the user unlinked it)


class JournalState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    UNDONE = "undone"


class NotificationLevel(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class ProviderState(StrEnum):
    DISCONNECTED = "disconnected"
    OK = "ok"
    SYNCING = "syncing"
    RATE_LIMITED = "rate_limited"
    RECONNECT_NEEDED = "reconnect_needed"
    ERROR = "error"


class Activity(Base):
    __tablename__ = "activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    start_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    timezone: Mapped[str | None] = mapped_column(String(64))
    start_local: Mapped[datetime | None] = mapped_column(DateTime())
    local_date: Mapped[date] = mapped_column(Date, index=True)
    date_only: Mapped[bool] = mapped_column(Boolean, default=False)
    sport: Mapped[Sport] = mapped_column(default=Sport.OTHER)
    name: Mapped[str | None] = mapped_column(String(255))
    distance_m: Mapped[float | None] = mapped_column(Float)
    elapsed_s: Mapped[float | None] = mapped_column(Float)
    moving_s: Mapped[float | None] = mapped_column(Float)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    records: Mapped[list["ProviderRecord"]] = relationship(back_populates="activity")


class ProviderRecord(Base):
    __tablename__ = "provider_record"
    __table_args__ = (
        UniqueConstraint("provider", "provider_id", name="uq_provider_record_provider_id"),
        Index("ix_provider_record_start_utc", "start_utc"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[ProviderName]
    provider_id: Mapped[str] = mapped_column(String(128))
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activity.id", ondelete="SET NULL"), index=True
    )
    link_origin: Mapped[LinkOrigin] = mapped_column(_enum(LinkOrigin), default=LinkOrigin.IMPORT)
    link_score: Mapped[float | None] = mapped_column(Float)
    link_explanation: Mapped[dict[str, Any] | None]

    start_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    timezone: Mapped[str | None] = mapped_column(String(64))
    start_local: Mapped[datetime | None] = mapped_column(DateTime())
    date_only: Mapped[bool] = mapped_column(Boolean, default=False)
    elapsed_s: Mapped[float | None] = mapped_column(Float)
    moving_s: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    sport: Mapped[Sport] = mapped_column(default=Sport.OTHER)
    raw_type: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    gear_id: Mapped[str | None] = mapped_column(String(128))
    gear_name: Mapped[str | None] = mapped_column(String(255))
    device: Mapped[str | None] = mapped_column(String(128))
    avg_hr: Mapped[float | None] = mapped_column(Float)
    max_hr: Mapped[float | None] = mapped_column(Float)
    ascent_m: Mapped[float | None] = mapped_column(Float)
    calories: Mapped[float | None] = mapped_column(Float)
    start_lat: Mapped[float | None] = mapped_column(Float)
    start_lon: Mapped[float | None] = mapped_column(Float)
    track: Mapped[list[Any] | None]
    external_id: Mapped[str | None] = mapped_column(String(255))
    # Hard evidence keys ("strava:123", "sha256:…") shared by records of one session.
    evidence: Mapped[list[Any] | None]
    checksum: Mapped[str | None] = mapped_column(String(64), index=True)
    file_path: Mapped[str | None] = mapped_column(String(1024))
    payload: Mapped[dict[str, Any] | None]
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    activity: Mapped[Activity | None] = relationship(back_populates="records")


class MatchDecision(Base):
    __tablename__ = "match_decision"
    __table_args__ = (UniqueConstraint("record_id", "other_record_id", name="uq_match_decision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MatchDecisionKind] = mapped_column(_enum(MatchDecisionKind))
    record_id: Mapped[int] = mapped_column(
        ForeignKey("provider_record.id", ondelete="CASCADE"), index=True
    )
    other_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider_record.id", ondelete="CASCADE"), index=True
    )
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReviewKind(StrEnum):
    AMBIGUOUS = "ambiguous"  # several plausible partners: left apart for the user
    TIMEZONE_CONFLICT = "timezone_conflict"  # identical but for a whole/half-hour offset
    DECISION_CONFLICT = "decision_conflict"  # two of the user's decisions contradict each other


class ReviewFlag(Base):
    """Something the matcher would not decide alone; shown to the user until resolved."""

    __tablename__ = "review_flag"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReviewKind] = mapped_column(_enum(ReviewKind))
    record_ids: Mapped[list[Any]]
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Pin(Base):
    """A value the user fixed for an activity; it beats every provider's value."""

    __tablename__ = "pin"
    __table_args__ = (UniqueConstraint("activity_id", "field", name="uq_pin_field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(String(32))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    pinned_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DismissedChange(Base):
    """A proposal the user asked not to see again (or undid): left out of every review until
    restored. Keyed by the change id, which comes from what the change does, so another value
    for the same field is a new proposal and is proposed; the activity's deletion takes it along.
    """

    __tablename__ = "dismissed_change"

    change_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ChangeKind] = mapped_column(_enum(ChangeKind))
    provider: Mapped[ProviderName]
    dismissed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Gear(Base):
    """A canonical piece of gear (a bike, a pair of shoes) that provider gear maps onto."""

    __tablename__ = "gear"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str | None] = mapped_column(String(32))
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class ProviderGear(Base):
    __tablename__ = "provider_gear"
    __table_args__ = (UniqueConstraint("provider", "provider_gear_id", name="uq_provider_gear"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[ProviderName]
    provider_gear_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str | None] = mapped_column(String(32))
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    gear_id: Mapped[int | None] = mapped_column(ForeignKey("gear.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any] | None]


class SyncState(Base):
    """What range of a provider's history has been pulled, and when."""

    __tablename__ = "sync_state"

    provider: Mapped[ProviderName] = mapped_column(primary_key=True)
    pulled_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pulled_to: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cursor: Mapped[dict[str, Any] | None]


class ProviderStatus(Base):
    __tablename__ = "provider_status"

    provider: Mapped[ProviderName] = mapped_column(primary_key=True)
    state: Mapped[ProviderState] = mapped_column(
        _enum(ProviderState), default=ProviderState.DISCONNECTED
    )
    last_operation: Mapped[str | None] = mapped_column(String(64))
    last_operation_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    rate_limited_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rate_limit: Mapped[dict[str, Any] | None]


class Notification(Base):
    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    level: Mapped[NotificationLevel] = mapped_column(_enum(NotificationLevel))
    message: Mapped[str] = mapped_column(Text)
    provider: Mapped[ProviderName | None]
    read: Mapped[bool] = mapped_column(Boolean, default=False)


class Setting(Base):
    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class JournalEntry(Base):
    """One change sent (or about to be sent) to a provider: journaled before it is written."""

    __tablename__ = "journal_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[str] = mapped_column(String(64), index=True)
    provider: Mapped[ProviderName]
    record_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider_record.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(32))
    field: Mapped[str | None] = mapped_column(String(32))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    state: Mapped[JournalState] = mapped_column(_enum(JournalState))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    undoes_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entry.id", ondelete="SET NULL")
    )
