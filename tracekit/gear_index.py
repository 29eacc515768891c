"""Which canonical piece of gear a provider's gear is, and what a provider calls a canonical one.

Providers name one bike differently ("Trek Domane SL6", "trek domane sl 6", Strava's own
shortening) and identify it by their own ids, so gear is compared through the canonical gear
list: first by the provider gear id's mapping (ProviderGear.gear_id), then by a normalised name
(case, spaces and punctuation ignored), retired gear included — an old activity was ridden on
the old bike. Comparing raw strings made the original propose gear changes forever.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracekit.providers.names import ProviderName
from tracekit.store.models import Gear, ProviderGear

# Values providers and logs use for "no gear at all"; Strava's API clears gear with "none".
_NO_GEAR = frozenset({"", "none", "noequipment", "nogear"})
_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")


def gear_key(name: str | None) -> str:
    """A gear name reduced to what identifies it: its letters and digits, in lower case, so
    "Trek Domane SL-6", "trek domane sl6" and "TREK DOMANE SL 6" are one bike."""
    return _NOT_ALPHANUMERIC.sub("", (name or "").casefold())


def is_no_gear(name: str | None) -> bool:
    return gear_key(name) in _NO_GEAR


@dataclass(frozen=True, slots=True)
class GearRef:
    """One piece of gear as Tracekit compares it.

    `gear_id` is the canonical gear's id when the gear maps onto the canonical list; otherwise
    the gear is known only by its name. Two refs are the same gear when their keys are equal.
    """

    key: str
    name: str
    gear_id: int | None = None
    retired: bool = False


class GearIndex:
    """The canonical gear list and every provider's gear, indexed for lookups both ways."""

    def __init__(self, gear: Iterable[Gear], provider_gear: Iterable[ProviderGear]) -> None:
        self._gear = {g.id: _canonical_ref(g) for g in gear}
        self._provider_gear = list(provider_gear)
        self._by_provider_id = {
            (pg.provider, pg.provider_gear_id): pg for pg in self._provider_gear
        }
        # Name → canonical gear: canonical names first, then the names providers use for gear
        # that is mapped; among equal names live gear wins over retired, then the oldest.
        self._by_name: dict[str, GearRef] = {}
        for ref in sorted(self._gear.values(), key=_preference):
            self._by_name.setdefault(gear_key(ref.name), ref)
        for pg in sorted(self._provider_gear, key=lambda pg: (pg.retired, pg.id)):
            canonical = self._gear.get(pg.gear_id) if pg.gear_id is not None else None
            if canonical is not None:
                self._by_name.setdefault(gear_key(pg.name), canonical)

    @classmethod
    def load(cls, session: Session) -> "GearIndex":
        return cls(session.scalars(select(Gear)), session.scalars(select(ProviderGear)))

    def resolve(
        self, provider: ProviderName, gear_id: str | None, gear_name: str | None
    ) -> GearRef | None:
        """The gear a provider record names, or None when it names none."""
        known = self._by_provider_id.get((provider, gear_id)) if gear_id else None
        if known is not None:
            canonical = self._gear.get(known.gear_id) if known.gear_id is not None else None
            if canonical is not None:
                return None if is_no_gear(canonical.name) else canonical
            return self.by_name(known.name)
        if gear_name:
            return self.by_name(gear_name)
        if gear_id and not is_no_gear(gear_id):
            # An id nobody has described: still gear, but only this provider knows which.
            return GearRef(key=f"{provider.value}:{gear_id}", name=gear_id)
        return None

    def by_name(self, name: str) -> GearRef | None:
        """Canonical gear by name, or gear known only by this name; None for "no gear"."""
        if is_no_gear(name):
            return None
        key = gear_key(name)
        return self._by_name.get(key) or GearRef(key=f"name:{key}", name=" ".join(name.split()))

    def from_pin(self, value: Any) -> GearRef | None:
        """A pinned gear value: a canonical gear id, or a gear name; empty means no gear."""
        if isinstance(value, int) and not isinstance(value, bool):
            canonical = self._gear.get(value)
            return None if canonical is None or is_no_gear(canonical.name) else canonical
        if isinstance(value, str):
            return self.by_name(value)
        return None

    def provider_gear_name(self, provider: ProviderName, gear_id: str | None) -> str | None:
        """The name `provider` gives its gear `gear_id` (None when unknown or no gear)."""
        known = self._by_provider_id.get((provider, gear_id)) if gear_id else None
        return known.name if known is not None else None

    def provider_gear_id(self, gear: GearRef, provider: ProviderName) -> str | None:
        """What `provider` calls this gear (for writing it there), or None when it has none."""
        candidates = [pg for pg in self._provider_gear if pg.provider is provider]
        candidates.sort(key=lambda pg: (pg.retired, pg.id))
        if gear.gear_id is not None:
            mapped = next((pg for pg in candidates if pg.gear_id == gear.gear_id), None)
            if mapped is not None:
                return mapped.provider_gear_id
        # Unmapped provider gear with the same name is the same gear.
        wanted = gear_key(gear.name)
        named = next(
            (pg for pg in candidates if pg.gear_id is None and gear_key(pg.name) == wanted), None
        )
        return named.provider_gear_id if named is not None else None


def _canonical_ref(gear: Gear) -> GearRef:
    return GearRef(key=f"gear:{gear.id}", name=gear.name, gear_id=gear.id, retired=gear.retired)


def _preference(ref: GearRef) -> tuple[bool, int]:
    assert ref.gear_id is not None
    return (ref.retired, ref.gear_id)
