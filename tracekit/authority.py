"""Which value of each field is the true one for an activity, and where it comes from.

The rules, in order: a value the user pinned wins; then the providers in the user's priority
order. Write-only providers (Strava by default: its API terms forbid using its data as a source
for other services) are never a source, though they receive values. A generated default name
("Morning Ride", "Girona Cycling") never beats a name a person typed, and when every name is a
default there is no authoritative name, so nothing is proposed. "No equipment" is no gear, so
gear comes from the first source that names some (the original let an empty-gear authority
block it, and proposed "No Equipment" → "No Equipment" forever).

Texts are compared with their whitespace collapsed, so a trailing space or a different line
break never becomes a change that is proposed again after every sync.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracekit.changes import PINNED, Field
from tracekit.default_names import is_default_name
from tracekit.gear_index import GearIndex, GearRef
from tracekit.settings import Settings
from tracekit.sports import Sport, family
from tracekit.store.models import Activity, Pin, ProviderRecord

# Sports that a more specific sport of the same family refines (a "ride" that another provider
# knows was a gravel ride).
_GENERIC_SPORTS = frozenset({Sport.RIDE, Sport.RUN, Sport.SWIM, Sport.WALK, Sport.WORKOUT})


@dataclass(frozen=True, slots=True)
class Chosen:
    """The authoritative value of one field.

    `value` is what is compared and written (the text; for gear its `GearRef.key`; for sport
    the Sport value); `display` is what the user reads. `source` is PINNED or the provider's
    name; `record_id` is the record it came from (None when pinned).
    """

    value: str
    display: str
    source: str
    record_id: int | None


@dataclass(frozen=True, slots=True)
class Authority:
    name: Chosen | None = None
    description: Chosen | None = None
    gear: Chosen | None = None
    sport: Chosen | None = None
    gear_ref: GearRef | None = None  # the chosen gear, for finding its id at another provider

    def of(self, field: Field) -> Chosen | None:
        return {
            Field.NAME: self.name,
            Field.DESCRIPTION: self.description,
            Field.GEAR: self.gear,
            Field.SPORT: self.sport,
        }[field]


def clean_name(text: str | None) -> str | None:
    """A name as Tracekit keeps it: single spaces, no surrounding blanks; empty is no name."""
    return " ".join((text or "").split()) or None


def clean_description(text: str | None) -> str | None:
    """A description without trailing blanks on its lines or around it; empty is none."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip() or None


def same_text(a: str | None, b: str | None) -> bool:
    """Whether two texts differ only in whitespace (which no user would call a change)."""
    return (a or "").split() == (b or "").split()


def authoritative(
    records: Iterable[ProviderRecord],
    pins: Iterable[Pin],
    settings: Settings,
    gear_index: GearIndex,
) -> Authority:
    """The authoritative name, description, gear and sport of one activity's records."""
    pinned = _pins_by_field(pins)
    sources = [r for r in _by_priority(records, settings) if settings.is_source(r.provider)]
    gear, gear_ref = _gear(sources, pinned, gear_index)
    return Authority(
        name=_text(Field.NAME, sources, pinned, clean_name, is_default_name),
        description=_text(Field.DESCRIPTION, sources, pinned, clean_description, _never),
        gear=gear,
        sport=_sport(sources, pinned),
        gear_ref=gear_ref,
    )


def apply_authority(
    activity: Activity,
    records: Sequence[ProviderRecord],
    pins: Iterable[Pin],
    settings: Settings,
    gear_index: GearIndex,
    now: datetime,
) -> Authority:
    """Set the activity's cached name and sport to the authoritative ones.

    The calendar still needs something to show when nothing is authoritative (only default
    names, or only a write-only provider's record — showing the user their own Strava data is
    not using it as a source), so the name and sport then fall back to the first value of any
    record in priority order. Time fields are left to `store.canonical.refresh_activity`.
    """
    authority = authoritative(records, pins, settings, gear_index)
    ordered = _by_priority(records, settings)
    if authority.name is not None:
        activity.name = authority.name.display
    else:
        activity.name = next((n for r in ordered if (n := clean_name(r.name))), None)
    if authority.sport is not None:
        activity.sport = Sport(authority.sport.value)
    else:
        activity.sport = next((r.sport for r in ordered if r.sport is not Sport.OTHER), Sport.OTHER)
    activity.updated_at = now
    return authority


def load_pins(session: Session, activity_ids: Iterable[int]) -> dict[int, list[Pin]]:
    """The pins of these activities, by activity id."""
    found: dict[int, list[Pin]] = defaultdict(list)
    ids = list(activity_ids)
    if ids:
        for pin in session.scalars(select(Pin).where(Pin.activity_id.in_(ids))):
            found[pin.activity_id].append(pin)
    return found


def _by_priority(records: Iterable[ProviderRecord], settings: Settings) -> list[ProviderRecord]:
    return sorted(records, key=lambda r: (settings.rank(r.provider), r.id or 0))


def _pins_by_field(pins: Iterable[Pin]) -> dict[Field, Any]:
    # Pins for fields this module does not decide (a later pinned start time) are not its
    # business, so they are passed over rather than refused.
    known = {f.value: f for f in Field}
    return {known[p.field]: p.value for p in pins if p.field in known}


def _never(_text: str) -> bool:
    return False


def _text(
    field: Field,
    sources: Sequence[ProviderRecord],
    pinned: Mapping[Field, Any],
    clean: Callable[[str | None], str | None],
    unusable: Callable[[str], bool],
) -> Chosen | None:
    if field in pinned:  # a pinned empty value means "none": the user said so
        value = pinned[field]
        text = clean(value if isinstance(value, str) or value is None else str(value))
        return Chosen(text, text, PINNED, None) if text else None
    for record in sources:
        text = clean(getattr(record, field.value))
        if text and not unusable(text):
            return Chosen(text, text, record.provider.value, record.id)
    return None


def _gear(
    sources: Sequence[ProviderRecord], pinned: Mapping[Field, Any], index: GearIndex
) -> tuple[Chosen | None, GearRef | None]:
    if Field.GEAR in pinned:
        ref = index.from_pin(pinned[Field.GEAR])
        return (Chosen(ref.key, ref.name, PINNED, None), ref) if ref else (None, None)
    for record in sources:
        ref = index.resolve(record.provider, record.gear_id, record.gear_name)
        if ref is not None:
            return Chosen(ref.key, ref.name, record.provider.value, record.id), ref
    return None, None


def _sport(sources: Sequence[ProviderRecord], pinned: Mapping[Field, Any]) -> Chosen | None:
    """The pinned sport, else the highest-priority known sport refined by the most specific
    sport of the same family ("ride" + "gravel ride" → gravel ride)."""
    if Field.SPORT in pinned:
        try:
            sport = Sport(pinned[Field.SPORT])
        except ValueError:
            return None
        return Chosen(sport.value, sport.value, PINNED, None)
    known = [r for r in sources if r.sport is not Sport.OTHER]
    if not known:
        return None
    base = known[0]
    chosen = next(
        (
            r
            for r in known
            if family(r.sport) == family(base.sport) and r.sport not in _GENERIC_SPORTS
        ),
        base,
    )
    return Chosen(chosen.sport.value, chosen.sport.value, chosen.provider.value, chosen.id)
