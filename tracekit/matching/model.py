"""The values that cross the matcher's boundary: what the store hands in and what it gets back.

Everything here is a frozen value so that a result can be cached, compared in tests and turned
into JSON (`dataclasses.asdict`) for the record's stored link explanation.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

type CandidateKey = tuple[str, str]
"""(provider, id): how a user decision names a record, stable across runs."""

type TimeBasis = Literal["utc", "local clock", "date only", "unknown offset"]
"""Which clocks two records could be compared on, from most to least precise.

"unknown offset" is a UTC-only record (a GPX file) against a local-clock-only record (Garmin's
startTimeLocal): the starts must then differ by a plausible zone offset.
"""

type SportRelation = Literal["same", "same family", "multisport leg", "unknown"]
type LinkReason = Literal["evidence", "decision", "score"]
type ReviewKind = Literal["ambiguous", "timezone_conflict", "decision_conflict"]
type DecisionKind = Literal["link", "never", "alone"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """What one provider knows about one session, reduced to what matching can use.

    A record's own `provider:id` always counts as one of its evidence keys, so a Strava record
    "123" and a Garmin record carrying the evidence "strava:123" (its upload receipt) are linked
    without the caller having to repeat the Strava record's own key.
    """

    provider: str
    id: str
    start_utc: datetime | None
    start_local: datetime | None
    date_only: bool
    elapsed_s: float | None
    distance_m: float | None
    sport: str | None
    name: str | None
    evidence: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # A naive "UTC" or an aware "local" is the mix-up that silently shifts a session by the
        # zone offset; refuse it where it is made rather than mis-match it later.
        if self.start_utc is not None and self.start_utc.tzinfo is None:
            raise ValueError(f"{self.provider}:{self.id}: start_utc must be timezone-aware")
        if self.start_local is not None and self.start_local.tzinfo is not None:
            raise ValueError(f"{self.provider}:{self.id}: start_local must be a naive wall clock")

    @property
    def key(self) -> CandidateKey:
        return (self.provider, self.id)


@dataclass(frozen=True, slots=True)
class Decision:
    """A user's standing decision, mirroring the store's MatchDecision rows.

    "link" forces `a` and `b` together, "never" keeps them apart, "alone" detaches `a` from
    everything the matcher or shared evidence would join it to (`b` is None). Decisions are
    applied in the order given, so a later decision about the same records wins.
    """

    kind: DecisionKind
    a: CandidateKey
    b: CandidateKey | None = None

    def __post_init__(self) -> None:
        if (self.kind == "alone") != (self.b is None):
            wanted = "one record" if self.kind == "alone" else "two records"
            raise ValueError(f"a {self.kind!r} decision names {wanted}")


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why two records were (or were not) taken for one session, in named parts.

    `penalties` are the named contributions to the distance between the two records; the link
    score is one minus their sum, so the UI can show which part cost the most.
    """

    basis: TimeBasis | None
    start_delta_s: float | None = None
    day_delta: int | None = None
    offset_s: float | None = None
    duration_delta_pct: float | None = None
    distance_delta_pct: float | None = None
    sport: SportRelation | None = None
    evidence: str | None = None
    penalties: tuple[tuple[str, float], ...] = ()

    def __str__(self) -> str:
        parts: list[str] = []
        if self.evidence is not None:
            parts.append(f"shared evidence {self.evidence}")
        if self.basis == "date only":
            when = "same day" if not self.day_delta else f"{self.day_delta:+d} day"
            parts.append(f"{when} (date only)")
        elif self.basis is not None and self.start_delta_s is not None:
            parts.append(f"starts {self.start_delta_s:.0f} s apart ({self.basis})")
        if self.offset_s is not None:
            parts.append(f"assuming a UTC offset of {format_offset(self.offset_s)}")
        if self.duration_delta_pct is not None:
            parts.append(f"durations differ {self.duration_delta_pct:.1f} %")
        if self.distance_delta_pct is not None:
            parts.append(f"distances differ {self.distance_delta_pct:.1f} %")
        if self.sport is not None:
            parts.append(f"sport: {self.sport}")
        return ", ".join(parts)


def format_offset(seconds: float) -> str:
    """An offset as the ±h:mm people read time zones in."""
    sign = "-" if seconds < 0 else "+"
    minutes = round(abs(seconds) / 60)
    return f"{sign}{minutes // 60}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class Link:
    """One pairwise link that helped build a group."""

    a: Candidate
    b: Candidate
    score: float
    reason: LinkReason
    explanation: Explanation


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """Something the matcher refused to decide alone and a human should look at.

    `options` are the competing pairings of an ambiguous case, each with its score;
    `offset_s` is the whole or half hour by which a time-zone conflict's starts differ.
    """

    kind: ReviewKind
    candidates: tuple[Candidate, ...]
    reason: str
    options: tuple[Link, ...] = ()
    offset_s: float | None = None


@dataclass(frozen=True, slots=True)
class MatchedGroup:
    members: tuple[Candidate, ...]
    links: tuple[Link, ...]


@dataclass(frozen=True, slots=True)
class MatchResult:
    matched: tuple[MatchedGroup, ...]
    review: tuple[ReviewItem, ...]

    @property
    def groups(self) -> list[list[Candidate]]:
        return [list(group.members) for group in self.matched]
