"""How alike two provider records are: a score in [0, 1], or None when they cannot be one session.

None is a veto ("these are different sessions"), used both to refuse a link and to refuse a
group that would put the two records together through others. A score is one minus a weighted
mean of named penalties, each 0 when a part agrees perfectly and 1 at the edge of plausibility.

The weights differ by time basis. On a clock (UTC, or local clocks) two different sessions of one
athlete never overlap in time, so the start dominates and durations may differ a lot (a bike
computer started two minutes after the watch). Without a clock (a date-only spreadsheet row, or
an unknown offset) the duration and distance are the only fingerprint left. A spreadsheet gives
the duration to the second, so it must agree closely; the distance it gives to 0.01 mile, but
providers put one track's distance up to 3 % apart, so within that it cannot tell two rides of
one route apart, only sessions of different lengths.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from tracekit.matching.model import Candidate, Explanation, SportRelation, TimeBasis
from tracekit.sports import Sport, SportFamily, family

_NAIVE_EPOCH = datetime(1970, 1, 1)
DAY_S = 86_400.0
MAX_START_GAP_S = 20 * 60.0
"""Two clocked records of one session start at most this far apart (a late second device)."""
MAX_OFFSET_S = 14 * 3600.0
"""The widest UTC offset in use (Kiribati, +14 h); no local clock is further from UTC."""
MIN_OFFSET_S = -12 * 3600.0
MAX_CLOCK_SPREAD_S = MAX_OFFSET_S - MIN_OFFSET_S
"""Two local clocks show the same instant at most 26 h apart."""
_EARLY_MORNING_S = 3 * 3600.0
_OFFSET_GRID_S = 15 * 60.0
_MAX_OFFSET_RESIDUAL_S = 4 * 60.0
_ROW_DURATION_SLACK_S = 1.0
"""A log's whole seconds against a provider's: rounding, and providers a second apart."""
_ROW_DURATION_SPAN = 0.004
"""Beyond the rounding, 0.4 % more costs the whole duration penalty: a row copied from a
provider is exact, while the two commutes of a day differ by a few percent."""

_ROW_DISTANCE_ROUNDING_M = 10.0
"""Miles to 0.01 are within 8 m of the provider's distance they were copied from."""
_ROW_DISTANCE_SPAN = 0.16
"""Providers recompute distance up to 3 % apart, the record a row was copied from may be missing,
and a record of the day's other commute may meet the row as closely by chance: 3 % must cost less
than the ambiguity margin (0.1), so that it never decides between two such sessions. Spread over
16 %, it costs 0.094 of the score where distance is all a row has beside its date (weight 2 of 4),
0.054 beside a duration."""

_VIRTUAL = frozenset({Sport.VIRTUAL_RIDE.value, Sport.VIRTUAL_RUN.value})
_MULTISPORT_LEGS = frozenset(
    {
        SportFamily.CYCLING,
        SportFamily.RUNNING,
        SportFamily.SWIMMING,
        SportFamily.ON_FOOT,
        SportFamily.ROWING,
        SportFamily.SKIING,
    }
)
_SPORT_PENALTY: dict[SportRelation, float] = {
    "same": 0.0,
    "same family": 0.1,
    "multisport leg": 0.3,
    "unknown": 0.5,
}


@dataclass(slots=True)
class Features:
    """A candidate's numbers, extracted once: matching compares each record many times."""

    utc: float | None
    local: float | None
    day: int | None
    second_of_day: float
    end_day: int | None
    date_only: bool
    duration: float | None
    distance: float | None
    sport: str | None
    virtual: bool


def features(candidate: Candidate) -> Features:
    # A zero duration or distance is how several providers say "not recorded".
    duration = candidate.elapsed_s or None
    distance = candidate.distance_m or None
    utc = None if candidate.date_only or candidate.start_utc is None else candidate.start_utc
    local = candidate.start_local
    day = local.toordinal() if local is not None else None
    local_s = None
    second_of_day = 0.0
    end_day = day
    if local is not None and not candidate.date_only:
        local_s = (local - _NAIVE_EPOCH).total_seconds()
        second_of_day = local_s - (local.toordinal() - _NAIVE_EPOCH.toordinal()) * DAY_S
        if day is not None and duration is not None:
            end_day = day + int((second_of_day + duration) // DAY_S)
    return Features(
        utc=utc.timestamp() if utc is not None else None,
        local=local_s,
        day=day,
        second_of_day=second_of_day,
        end_day=end_day,
        date_only=candidate.date_only,
        duration=duration,
        distance=distance,
        sport=candidate.sport,
        virtual=candidate.sport in _VIRTUAL,
    )


@cache
def sport_relation(a: str | None, b: str | None) -> SportRelation | None:
    """How two sport labels relate, or None when no provider would label one session both ways.

    Multisport is kept apart from gym sessions: a triathlon is never somebody's yoga class.
    """
    fa, fb = family(a), family(b)
    if fa in (None, SportFamily.OTHER) or fb in (None, SportFamily.OTHER):
        return "unknown"
    if a == b:
        return "same"
    if fa == fb:
        return "same family"
    if (fa is SportFamily.MULTISPORT and fb in _MULTISPORT_LEGS) or (
        fb is SportFamily.MULTISPORT and fa in _MULTISPORT_LEGS
    ):
        return "multisport leg"
    return None


def relative_delta(x: float, y: float) -> float:
    return abs(x - y) / max(x, y)


def _ramp(value: float, free: float, span: float) -> float:
    """0 up to `free`, rising linearly to 1 at `free + span`."""
    return min(1.0, max(0.0, (value - free) / span))


class Comparison:
    """A scored pair with its measurements and named penalties.

    Kept raw because tens of thousands of pairs are scored and only the few that become links
    or review items are ever shown; `explain` builds the frozen explanation on demand.
    """

    __slots__ = (
        "basis",
        "day_delta",
        "distance_delta",
        "duration_delta",
        "offset_s",
        "parts",
        "score",
        "sport",
        "start_delta_s",
    )

    def __init__(self, basis: TimeBasis, sport: SportRelation) -> None:
        self.basis = basis
        self.sport = sport
        self.score = 1.0
        self.start_delta_s: float | None = None
        self.day_delta: int | None = None
        self.offset_s: float | None = None
        self.duration_delta: float | None = None
        self.distance_delta: float | None = None
        self.parts: list[tuple[str, float, float]] = []

    def penalise(self, name: str, weight: float, penalty: float) -> None:
        self.parts.append((name, weight, penalty))

    def settle(self) -> "Comparison":
        total = lost = 0.0
        for _, weight, penalty in self.parts:
            total += weight
            lost += weight * penalty
        self.score = max(0.0, 1.0 - lost / total)
        return self

    def explain(self) -> Explanation:
        total = sum(weight for _, weight, _ in self.parts)
        return Explanation(
            basis=self.basis,
            start_delta_s=self.start_delta_s,
            day_delta=self.day_delta,
            offset_s=self.offset_s,
            duration_delta_pct=_pct(self.duration_delta),
            distance_delta_pct=_pct(self.distance_delta),
            sport=self.sport,
            penalties=tuple(
                (name, weight * penalty / total) for name, weight, penalty in self.parts
            ),
        )


def compare(a: Features, b: Features) -> Comparison | None:
    """Score two records of different providers (or None: they are different sessions)."""
    relation = sport_relation(a.sport, b.sport)
    if relation is None:
        return None
    if a.date_only or b.date_only:
        return _compare_dates(a, b, relation)
    if a.utc is not None and b.utc is not None:
        return _compare_clocks(a, b, a.utc, b.utc, Comparison("utc", relation))
    if a.local is not None and b.local is not None:
        return _compare_clocks(a, b, a.local, b.local, Comparison("local clock", relation))
    if a.utc is not None and b.local is not None:
        return _compare_offset(a, b, b.local - a.utc, relation)
    if a.local is not None and b.utc is not None:
        return _compare_offset(a, b, a.local - b.utc, relation)
    return None


def _compare_clocks(
    a: Features, b: Features, start_a: float, start_b: float, found: Comparison
) -> Comparison | None:
    gap = abs(start_a - start_b)
    if gap > MAX_START_GAP_S:
        return None
    found.start_delta_s = gap
    found.penalise("start", 3.0, _ramp(gap, 15.0, 600.0))
    if a.duration is not None and b.duration is not None:
        overlap = min(start_a + a.duration, start_b + b.duration) - max(start_a, start_b)
        delta = found.duration_delta = relative_delta(a.duration, b.duration)
        # A multisport record may contain the leg another provider split out; only a record of
        # about the whole session is the same session.
        limit = 0.15 if found.sport == "multisport leg" else 0.5
        if overlap < 0.5 * min(a.duration, b.duration) or delta > limit:
            return None
        found.penalise("duration", 1.0, _ramp(delta, 0.01, 0.3))
    if not _distance(a, b, found, gate=0.5, weight=1.0, free=0.01, span=0.15):
        return None
    found.penalise("sport", 1.0, _SPORT_PENALTY[found.sport])
    return found.settle()


def _compare_dates(a: Features, b: Features, relation: SportRelation) -> Comparison | None:
    row, other = (a, b) if a.date_only else (b, a)
    if row.day is None:
        return None
    day_delta = _day_delta(row.day, other)
    if day_delta is None:
        return None
    found = Comparison("date only", relation)
    found.day_delta = day_delta
    found.penalise("date", 1.0, 0.0 if day_delta == 0 and other.day is not None else 0.5)
    return _fingerprint(a, b, found)


def _day_delta(row_day: int, other: Features) -> int | None:
    if other.date_only:
        return 0 if other.day == row_day else None
    if row_day not in loggable_days(other):
        return None
    return 0 if other.day is None else row_day - other.day


def loggable_days(f: Features) -> range:
    """The days (ordinals) under which a training log could file this clocked record.

    A session across midnight may be logged on the day it ended, and one started in the small
    hours on the evening before; otherwise only its own day counts, so a daily commute is never
    matched to yesterday's row. A UTC-only record's local day is any day the
    widest zone offsets reach.
    """
    if f.day is None:
        if f.utc is None:
            return range(0)
        epoch = _NAIVE_EPOCH.toordinal()
        return range(
            int((f.utc + MIN_OFFSET_S) // DAY_S) + epoch,
            int((f.utc + MAX_OFFSET_S) // DAY_S) + epoch + 1,
        )
    early = f.second_of_day < _EARLY_MORNING_S
    last = f.end_day if f.end_day is not None else f.day
    return range(f.day - early, last + 1)


def _compare_offset(
    a: Features, b: Features, local_minus_utc: float, relation: SportRelation
) -> Comparison | None:
    if not MIN_OFFSET_S - MAX_START_GAP_S <= local_minus_utc <= MAX_OFFSET_S + MAX_START_GAP_S:
        return None
    offset = round(local_minus_utc / _OFFSET_GRID_S) * _OFFSET_GRID_S
    residual = abs(local_minus_utc - offset)
    if residual > _MAX_OFFSET_RESIDUAL_S:
        return None
    found = Comparison("unknown offset", relation)
    found.start_delta_s = residual
    found.offset_s = offset
    # Any of ~100 offsets could line the two up, so the start proves little: the rest must
    # agree as closely as for a date-only row.
    found.penalise("start", 1.0, _ramp(residual, 15.0, _MAX_OFFSET_RESIDUAL_S - 15.0))
    return _fingerprint(a, b, found)


def _fingerprint(a: Features, b: Features, found: Comparison) -> Comparison | None:
    """Score duration, distance and sport where no clock says when the session happened.

    A log gives the duration to the second, so beyond the rounding it must agree closely.
    """
    if a.duration is not None and b.duration is not None:
        longer = max(a.duration, b.duration)
        slack = abs(a.duration - b.duration)
        found.duration_delta = slack / longer
        if found.duration_delta > 0.35:
            return None
        excess = (slack - _ROW_DURATION_SLACK_S) / longer
        found.penalise("duration", 3.0, _ramp(excess, 0.0, _ROW_DURATION_SPAN))
    if not _distance(
        a,
        b,
        found,
        gate=0.25,
        weight=2.0,
        free=0.0,
        span=_ROW_DISTANCE_SPAN,
        rounding_m=_ROW_DISTANCE_ROUNDING_M,
    ):
        return None
    found.penalise("sport", 1.0, _SPORT_PENALTY[found.sport])
    if found.duration_delta is None and found.distance_delta is None:
        # A date and a sport alone would pair any two gym sessions of a day.
        found.penalise("nothing to compare", 1e6, 1.0)
    return found.settle()


def _distance(
    a: Features,
    b: Features,
    found: Comparison,
    *,
    gate: float,
    weight: float,
    free: float,
    span: float,
    rounding_m: float = 0.0,
) -> bool:
    """Penalise the distance difference; False when it proves two different sessions.

    A virtual distance (Zwift's world against a trainer's speed estimate) may differ a lot for
    one session, so it weighs little and never vetoes.
    """
    if a.distance is None or b.distance is None:
        return True
    delta = found.distance_delta = relative_delta(a.distance, b.distance)
    if a.virtual or b.virtual:
        found.penalise("distance", weight / 4, min(1.0, delta))
    elif delta > gate:
        return False
    else:
        excess = max(0.0, abs(a.distance - b.distance) - rounding_m) / max(a.distance, b.distance)
        found.penalise("distance", weight, _ramp(excess, free, span))
    return True


def _pct(delta: float | None) -> float | None:
    return None if delta is None else delta * 100.0
