"""Month views of the store, shared by the CLI and the window.

Days are each activity's own local date (an evening run in Tokyo sits on its Tokyo date), read
from the indexed `local_date` column, so a month costs two indexed queries on any history size.
"""

import calendar as stdlib_calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracekit.store.models import Activity, ProviderRecord


@dataclass(frozen=True, slots=True)
class YearMonth:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "YearMonth":
        try:
            parsed = datetime.strptime(text, "%Y-%m")
        except ValueError:
            raise ValueError(f"not a month: {text!r} (expected YYYY-MM)") from None
        return cls(parsed.year, parsed.month)

    @classmethod
    def of(cls, day: date) -> "YearMonth":
        return cls(day.year, day.month)

    def shifted(self, months: int) -> "YearMonth":
        index = self.year * 12 + (self.month - 1) + months
        return YearMonth(index // 12, index % 12 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, stdlib_calendar.monthrange(self.year, self.month)[1])

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    activity_id: int
    name: str | None
    sport: str
    start_local: datetime | None
    local_date: date
    distance_m: float | None
    elapsed_s: float | None
    providers: tuple[str, ...]
    needs_review: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "activity_id": self.activity_id,
            "name": self.name,
            "sport": self.sport,
            "start_local": self.start_local.isoformat() if self.start_local else None,
            "distance_m": self.distance_m,
            "elapsed_s": self.elapsed_s,
            "providers": list(self.providers),
        }


@dataclass(frozen=True, slots=True)
class Totals:
    count: int
    distance_m: float
    elapsed_s: float

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "distance_m": self.distance_m, "elapsed_s": self.elapsed_s}


@dataclass(frozen=True, slots=True)
class MonthView:
    month: YearMonth
    days: dict[date, list[CalendarEntry]]
    totals: Totals

    def as_json(self) -> dict[str, Any]:
        return {
            "days": {
                day.isoformat(): [entry.as_json() for entry in entries]
                for day, entries in sorted(self.days.items())
            },
            "totals": self.totals.as_json(),
        }


def month_view(session: Session, month: YearMonth) -> MonthView:
    activities = session.execute(
        select(
            Activity.id,
            Activity.name,
            Activity.sport,
            Activity.start_local,
            Activity.start_utc,
            Activity.local_date,
            Activity.distance_m,
            Activity.elapsed_s,
            Activity.needs_review,
        )
        .where(Activity.local_date.between(month.first_day, month.last_day))
        .order_by(Activity.local_date, Activity.start_local, Activity.start_utc, Activity.id)
    ).all()
    providers: dict[int, set[str]] = defaultdict(set)
    if activities:
        rows = session.execute(
            select(ProviderRecord.activity_id, ProviderRecord.provider)
            .join(Activity, Activity.id == ProviderRecord.activity_id)
            .where(Activity.local_date.between(month.first_day, month.last_day))
        )
        for activity_id, provider in rows:
            if activity_id is not None:
                providers[activity_id].add(provider.value)
    days: dict[date, list[CalendarEntry]] = defaultdict(list)
    for row in activities:
        days[row.local_date].append(
            CalendarEntry(
                activity_id=row.id,
                name=row.name,
                sport=row.sport.value,
                start_local=row.start_local,
                local_date=row.local_date,
                distance_m=row.distance_m,
                elapsed_s=row.elapsed_s,
                providers=tuple(sorted(providers[row.id])),
                needs_review=row.needs_review,
            )
        )
    totals = Totals(
        count=len(activities),
        distance_m=sum(r.distance_m or 0.0 for r in activities),
        elapsed_s=sum(r.elapsed_s or 0.0 for r in activities),
    )
    return MonthView(month, dict(days), totals)


def latest_month(session: Session) -> YearMonth | None:
    newest = session.scalar(select(Activity.local_date).order_by(Activity.local_date.desc()))
    return YearMonth.of(newest) if newest else None
