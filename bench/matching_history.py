"""A synthetic, seeded training history with ground truth, to measure the matcher against.

Nobody knows the truth of a real export, and real exports cannot be shared, so this plays an
athlete living in New York who commutes by bike, runs, swims, lifts, races, travels, and lets up
to six providers see each session with their typical distortions:

* garmin: the watch's record with its local wall clock only (startTimeLocal);
* strava: UTC and local start, distance recomputed (±1–3 %), sometimes the bike computer's or
  Zwift's record instead of the watch's, sometimes carrying Garmin's upload id as evidence;
* intervalsicu: a mirror of Strava (with Strava's id as evidence half the time) or of Garmin;
* ridewithgps: outdoor rides only, usually the bike computer's record;
* spreadsheet: date-only rows, distance in miles rounded to 0.01, duration to the second;
* file: a few GPX exports, UTC only, often without a sport.

Every record knows the session it came from and the session's case (commute, race, brick, …),
so pairwise precision and recall can be measured per case. Records the matcher is expected to
leave apart and report (a wrong time zone, two indistinguishable treadmill runs) say so.
"""

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from zoneinfo import ZoneInfo

from tracekit.matching import Candidate, MatchResult
from tracekit.matching.model import ReviewKind
from tracekit.sports import Sport
from tracekit.units import METRES_PER_MILE

HOME = ZoneInfo("America/New_York")
ABROAD = tuple(
    ZoneInfo(name)
    for name in (
        "Europe/Berlin",
        "Europe/London",
        "Asia/Tokyo",
        "Asia/Kolkata",
        "Asia/Kathmandu",
        "Australia/Sydney",
        "Pacific/Auckland",
        "America/Los_Angeles",
        "America/Sao_Paulo",
    )
)
FIRST_DAY = date(2015, 1, 5)

_CYCLING = {Sport.RIDE, Sport.GRAVEL_RIDE, Sport.MOUNTAIN_BIKE, Sport.VIRTUAL_RIDE}
_SHEET_WORD = {
    Sport.RIDE: Sport.RIDE,
    Sport.GRAVEL_RIDE: Sport.RIDE,
    Sport.MOUNTAIN_BIKE: Sport.RIDE,
    Sport.VIRTUAL_RIDE: Sport.RIDE,
    Sport.RUN: Sport.RUN,
    Sport.TRAIL_RUN: Sport.RUN,
    Sport.VIRTUAL_RUN: Sport.RUN,
}


@dataclass(frozen=True, slots=True)
class Record:
    """A provider record and the truth about it, which the matcher never sees."""

    candidate: Candidate
    session: int
    case: str
    expect_review: ReviewKind | None = None


@dataclass(frozen=True, slots=True)
class History:
    records: tuple[Record, ...]
    sessions: int

    @property
    def candidates(self) -> list[Candidate]:
        return [record.candidate for record in self.records]


@dataclass(slots=True)
class _Session:
    """One real session as it happened, before any device or provider distorts it."""

    number: int
    case: str
    sport: Sport
    start: datetime
    zone: ZoneInfo
    elapsed: float
    distance: float | None
    clock_zone: ZoneInfo | None = None
    """The zone the watch shows, when the athlete forgot to change it while abroad."""

    def local(self, moment: datetime, zone: ZoneInfo | None = None) -> datetime:
        return moment.astimezone(zone or self.zone).replace(tzinfo=None)


@dataclass(slots=True)
class _Recording:
    """What one device recorded of a session."""

    device: str
    start: datetime
    elapsed: float
    distance: float | None


@dataclass(slots=True)
class _Plan:
    """A day's sessions as local start times."""

    items: list[tuple[time, str, Sport, float, float | None]] = field(default_factory=list)

    def add(self, at: time, case: str, sport: Sport, minutes: float, km: float | None) -> None:
        self.items.append((at, case, sport, minutes * 60.0, None if km is None else km * 1000.0))


def generate(years: float, seed: int) -> History:
    """A history of `years` years, the same for the same seed."""
    rng = random.Random(seed)
    days = round(years * 365.25)
    trips = _trips(rng, days)
    sessions: list[_Session] = []
    conflicts_left = max(1, round(years))
    for offset in range(days):
        day = FIRST_DAY + timedelta(days=offset)
        zone = trips.get(day, HOME)
        plan = _travel_day(rng) if zone is not HOME else _home_day(rng, day)
        for at, case, sport, elapsed, distance in plan.items:
            session = _Session(
                number=len(sessions),
                case=case,
                sport=sport,
                start=datetime.combine(day, at, tzinfo=zone).astimezone(UTC),
                zone=zone,
                elapsed=float(round(elapsed)),
                distance=distance,
            )
            if case == "travel" and conflicts_left and rng.random() < 0.08:
                conflicts_left -= 1
                session.case = "timezone_conflict"
                session.clock_zone = HOME
            sessions.append(session)
    return History(records=tuple(_Providers(rng).emit(sessions)), sessions=len(sessions))


def _trips(rng: random.Random, days: int) -> dict[date, ZoneInfo]:
    """About three trips a year, five to ten days each, in zones from -8 h to +13 h."""
    abroad: dict[date, ZoneInfo] = {}
    for _ in range(round(days / 365.25 * 3)):
        first = FIRST_DAY + timedelta(days=rng.randrange(days))
        zone = rng.choice(ABROAD)
        for n in range(rng.randint(5, 10)):
            abroad[first + timedelta(days=n)] = zone
    return abroad


def _clock(rng: random.Random, first: str, last: str) -> time:
    lo, hi = (datetime.strptime(t, "%H:%M") for t in (first, last))
    return (lo + timedelta(seconds=round(rng.uniform(0, (hi - lo).total_seconds())))).time()


def _after(rng: random.Random, at: time, minutes: float, gap_min: float, gap_max: float) -> time:
    """A start `gap_min`–`gap_max` minutes after a session of `minutes` started at `at` ends."""
    moment = datetime.combine(FIRST_DAY, at) + timedelta(
        minutes=minutes + rng.uniform(gap_min, gap_max)
    )
    return moment.replace(microsecond=0).time()


def _is_dst_change(day: date) -> bool:
    """New York changes clocks on the second Sunday of March and the first of November."""
    if day.weekday() != 6:
        return False
    return (day.month == 3 and 8 <= day.day <= 14) or (day.month == 11 and day.day <= 7)


def _travel_day(rng: random.Random) -> _Plan:
    plan = _Plan()
    if rng.random() < 0.7:
        km = rng.uniform(6, 12)
        plan.add(_clock(rng, "06:30", "07:30"), "travel", Sport.RUN, km * rng.uniform(5, 6), km)
    if rng.random() < 0.25:
        minutes = rng.uniform(30, 50)
        plan.add(_clock(rng, "18:00", "19:00"), "travel", Sport.STRENGTH, minutes, None)
    return plan


def _home_day(rng: random.Random, day: date) -> _Plan:
    plan = _Plan()
    if _is_dst_change(day):
        # A night run straddling the clock change: its local end is not start + elapsed.
        km = rng.uniform(10, 16)
        plan.add(_clock(rng, "00:50", "01:40"), "dst", Sport.RUN, km * rng.uniform(5, 5.8), km)
    if day.weekday() < 5:
        _workday(rng, plan, day)
    else:
        _weekend(rng, plan, day)
    return plan


def _run(rng: random.Random, plan: _Plan, at: time, case: str, km: float) -> None:
    plan.add(at, case, Sport.RUN, km * rng.uniform(5, 5.7), km)


def _workday(rng: random.Random, plan: _Plan, day: date) -> None:
    weekday = day.weekday()
    if rng.random() < 1 / 250:
        # The same programmed treadmill run twice a day: indistinguishable without a clock.
        plan.add(_clock(rng, "06:00", "06:30"), "twin_treadmill", Sport.VIRTUAL_RUN, 30, 5.0)
        plan.add(_clock(rng, "20:30", "21:00"), "twin_treadmill", Sport.VIRTUAL_RUN, 30, 5.0)
    if rng.random() < 0.75:
        # One route, ridden twice: same distance, durations a few percent apart.
        plan.add(_clock(rng, "07:15", "08:00"), "commute", Sport.RIDE, rng.gauss(26.5, 1.3), 8.3)
        plan.add(_clock(rng, "17:00", "18:00"), "commute", Sport.RIDE, rng.gauss(27.5, 1.6), 8.3)
    if weekday == 3 and rng.random() < 0.15:
        km = rng.choice((8.0, 10.0))
        plan.add(_clock(rng, "12:00", "12:15"), "run_double", Sport.RUN, km * 5.3, km)
        minutes = km * rng.gauss(5.3, 0.12)
        plan.add(_clock(rng, "19:00", "19:30"), "run_double", Sport.RUN, minutes, km)
        return
    if weekday in (1, 3) and rng.random() < 0.55:
        _run(rng, plan, _clock(rng, "12:00", "12:20"), "easy_run", rng.uniform(8, 12))
    if weekday in (2, 4) and rng.random() < 0.55:
        metres = rng.randrange(2000, 3300, 100)
        minutes = metres / 100 * rng.uniform(1.8, 2.2)
        plan.add(_clock(rng, "12:00", "12:30"), "swim_pool", Sport.SWIM, minutes, metres / 1000)
    evening = _clock(rng, "19:00", "19:40")
    if weekday in (0, 3) and rng.random() < 0.5:
        plan.add(evening, "strength", Sport.STRENGTH, rng.uniform(30, 60), None)
    elif weekday in (1, 4) and rng.random() < 0.35:
        plan.add(evening, "yoga", Sport.YOGA, rng.choice((45, 60, 75)) + rng.uniform(-2, 2), None)
    elif weekday == 2 and day.month in (11, 12, 1, 2, 3) and rng.random() < 0.5:
        minutes = rng.uniform(45, 75)
        plan.add(evening, "zwift", Sport.VIRTUAL_RIDE, minutes, minutes / 60 * rng.uniform(28, 34))


def _weekend(rng: random.Random, plan: _Plan, day: date) -> None:
    morning = _clock(rng, "07:30", "08:30")
    saturday = day.weekday() == 5
    if rng.random() < 6 / 104:
        _race(rng, plan, morning)
    elif saturday and rng.random() < 0.8:
        if day.month in (11, 12, 1, 2, 3) and rng.random() < 0.7:
            minutes = rng.uniform(60, 100)
            if rng.random() < 0.6:
                km = minutes / 60 * rng.uniform(28, 34)
                plan.add(morning, "zwift", Sport.VIRTUAL_RIDE, minutes, km)
            else:
                plan.add(morning, "trainer_no_speed", Sport.VIRTUAL_RIDE, minutes, None)
        else:
            km = rng.uniform(50, 140)
            case = "second_device" if rng.random() < 0.4 else "long_ride"
            sport = rng.choice((Sport.RIDE, Sport.RIDE, Sport.GRAVEL_RIDE))
            plan.add(morning, case, sport, km / rng.uniform(24, 30) * 60, km)
    elif not saturday and day.month in (5, 6, 7, 8, 9) and rng.random() < 0.3:
        ride = rng.uniform(60, 120)
        plan.add(morning, "brick", Sport.RIDE, ride, ride / 60 * rng.uniform(27, 31))
        run = rng.uniform(20, 40)
        plan.add(_after(rng, morning, ride, 2, 5), "brick", Sport.RUN, run, run / 5.2)
    elif not saturday and rng.random() < 0.7:
        km = rng.uniform(16, 30)
        sport = rng.choice((Sport.RUN, Sport.TRAIL_RUN))
        plan.add(morning, "long_run", sport, km * rng.uniform(5.2, 6), km)
    if rng.random() < 0.2:
        plan.add(_clock(rng, "15:00", "16:00"), "yoga", Sport.YOGA, rng.choice((60, 75)), None)
    if rng.random() < 4 / 104:
        km = rng.uniform(20, 40)
        minutes = km / rng.uniform(22, 28) * 60
        plan.add(_clock(rng, "23:00", "23:40"), "midnight", Sport.RIDE, minutes, km)


def _race(rng: random.Random, plan: _Plan, morning: time) -> None:
    """Warm-up, race and cool-down: three runs on one morning, minutes apart."""
    warmup = rng.uniform(12, 18)
    plan.add(morning, "race", Sport.RUN, warmup, warmup / 5.8)
    km = rng.choice((10.0, 10.0, 21.1))
    start = _after(rng, morning, warmup, 8, 15)
    minutes = km * rng.uniform(3.9, 4.5)
    plan.add(start, "race", Sport.RUN, minutes, km * rng.uniform(1.0, 1.01))
    cooldown = rng.uniform(8, 15)
    plan.add(_after(rng, start, minutes, 2, 6), "race", Sport.RUN, cooldown, cooldown / 6)


class _Providers:
    """Turns sessions into provider records, each provider with its own habits and gaps."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.issued: defaultdict[str, int] = defaultdict(int)

    def _id(self, provider: str) -> str:
        self.issued[provider] += 1
        base = {"garmin": 4_000_000_000, "strava": 900_000_000, "ridewithgps": 30_000_000}
        return str(base.get(provider, 0) + self.issued[provider])

    def emit(self, sessions: list[_Session]) -> Iterator[Record]:
        for session in sessions:
            for record in self._session(session):
                provider = record.candidate.provider
                if provider in ("garmin", "strava", "file") and self.rng.random() < 0.004:
                    yield from self._duplicate(record)
                else:
                    yield record

    def _duplicate(self, record: Record) -> Iterator[Record]:
        """The same file uploaded twice: two records of one provider sharing its checksum."""
        checksum = f"sha256:{self.rng.getrandbits(64):016x}"
        original = record.candidate
        yield replace(record, candidate=replace(original, evidence=original.evidence | {checksum}))
        copy = replace(original, id=self._id(original.provider), evidence=frozenset({checksum}))
        yield replace(record, candidate=copy)

    def _recordings(self, s: _Session) -> tuple[_Recording, _Recording]:
        """The watch's recording and the one Strava gets (a bike computer's or Zwift's)."""
        rng = self.rng
        distance = s.distance
        if distance is not None:
            distance *= 1 + rng.gauss(0, 0.004)
        if s.case == "zwift":
            zwift = _Recording(
                "zwift",
                s.start + timedelta(seconds=rng.randint(-20, 60)),
                s.elapsed + rng.randint(-60, 60),
                s.distance,
            )
            # The watch or head unit on a trainer estimates speed, if it has a sensor at all.
            estimate = None if rng.random() < 0.5 else (s.distance or 0) * rng.uniform(0.6, 1.4)
            return _Recording("watch", s.start, s.elapsed, estimate), zwift
        watch = _Recording("watch", s.start, s.elapsed, distance)
        if s.case == "second_device" and rng.random() < 0.7:
            late = rng.randint(60, 180)
            elapsed = s.elapsed - late - rng.randint(0, 180)
            share = elapsed / s.elapsed * (1 + rng.gauss(0, 0.004))
            bike = _Recording(
                "bike",
                s.start + timedelta(seconds=late),
                elapsed,
                None if distance is None else distance * share,
            )
            return watch, bike
        return watch, watch

    def _session(self, s: _Session) -> Iterator[Record]:
        rng = self.rng
        watch, shown = self._recordings(s)
        garmin = strava = None
        if rng.random() < 0.9:
            garmin = self._candidate(
                "garmin",
                s,
                watch,
                utc=None,
                local=s.local(watch.start, s.clock_zone),
                sport=self._garmin_sport(s),
            )
        if rng.random() < 0.85:
            evidence: frozenset[str] = frozenset()
            if garmin is not None and shown is watch and rng.random() < 0.25:
                evidence = frozenset({f"garmin:{garmin.id}"})
            start = shown.start + timedelta(seconds=rng.randint(-2, 3))
            strava = self._candidate(
                "strava",
                s,
                shown,
                utc=start,
                local=s.local(start),
                sport=self._strava_sport(s),
                distance=_regps(rng, shown.distance, 0.01),
                evidence=evidence,
            )
        records = [c for c in (garmin, strava) if c is not None]
        if rng.random() < 0.65:
            records.append(self._intervals(s, watch, strava))
        if s.sport in _CYCLING and s.sport is not Sport.VIRTUAL_RIDE:
            ride_source = shown if shown.device == "bike" else watch
            if rng.random() < (0.9 if shown.device == "bike" else 0.45):
                start = ride_source.start + timedelta(seconds=rng.randint(-3, 3))
                records.append(
                    self._candidate(
                        "ridewithgps",
                        s,
                        ride_source,
                        utc=start,
                        local=s.local(start),
                        sport=s.sport,
                        distance=_regps(rng, ride_source.distance, 0.008),
                    )
                )
        if rng.random() < 0.1:
            records.append(
                self._candidate(
                    "file",
                    s,
                    watch,
                    utc=watch.start,
                    local=None,
                    sport=None if rng.random() < 0.3 else s.sport,
                    distance=_regps(rng, watch.distance, 0.01),
                )
            )
        if rng.random() < 0.65:
            records.append(self._row(s, shown))
        # A wrong watch zone shows only against a record whose local clock is right.
        right_clock = any(
            c.start_utc is not None and c.start_local == s.local(c.start_utc) for c in records
        )
        for candidate in records:
            expect: ReviewKind | None = None
            if s.case == "timezone_conflict" and candidate.provider == "garmin" and right_clock:
                expect = "timezone_conflict"
            elif s.case == "twin_treadmill" and candidate.date_only:
                expect = "ambiguous"
            yield Record(candidate, s.number, s.case, expect)

    def _candidate(
        self,
        provider: str,
        s: _Session,
        recording: _Recording,
        *,
        utc: datetime | None,
        local: datetime | None,
        sport: Sport | None,
        distance: float | None = None,
        evidence: frozenset[str] = frozenset(),
    ) -> Candidate:
        return Candidate(
            provider=provider,
            id=self._id(provider),
            start_utc=utc,
            start_local=local,
            date_only=False,
            elapsed_s=recording.elapsed,
            distance_m=distance if distance is not None else recording.distance,
            sport=sport,
            name=f"{s.case.replace('_', ' ')} #{s.number}",
            evidence=evidence,
        )

    def _intervals(self, s: _Session, watch: _Recording, strava: Candidate | None) -> Candidate:
        """intervals.icu copies Strava when it is connected, else Garmin."""
        if strava is not None and strava.start_utc is not None:
            evidence = frozenset({f"strava:{strava.id}"}) if self.rng.random() < 0.5 else None
            return replace(
                strava,
                provider="intervalsicu",
                id=f"i{self._id('intervalsicu')}",
                evidence=evidence or frozenset(),
            )
        return self._candidate(
            "intervalsicu",
            s,
            watch,
            utc=watch.start,
            local=s.local(watch.start, s.clock_zone),
            sport=self._garmin_sport(s),
        )

    def _row(self, s: _Session, shown: _Recording) -> Candidate:
        """A training-log row, typed from what Strava showed: miles to 0.01, whole seconds."""
        rng = self.rng
        day = s.local(s.start).date()
        if s.case == "midnight" and rng.random() < 0.4:
            day = s.local(s.start + timedelta(seconds=s.elapsed)).date()
        miles = None
        if shown.distance is not None and (s.case != "zwift" or rng.random() < 0.7):
            miles = round(shown.distance / METRES_PER_MILE, 2)
        sport: Sport | None = _SHEET_WORD.get(s.sport, s.sport)
        if s.sport is Sport.YOGA and rng.random() < 0.3:
            sport = Sport.OTHER
        if rng.random() < 0.05:
            sport = None
        return Candidate(
            provider="spreadsheet",
            id=f"row{self._id('spreadsheet')}",
            start_utc=None,
            start_local=datetime.combine(day, time()),
            date_only=True,
            elapsed_s=float(round(shown.elapsed)),
            distance_m=None if miles is None else miles * METRES_PER_MILE,
            sport=sport,
            name=None,
        )

    def _garmin_sport(self, s: _Session) -> Sport:
        if s.sport is Sport.STRENGTH and self.rng.random() < 0.1:
            return Sport.WORKOUT
        return s.sport

    def _strava_sport(self, s: _Session) -> Sport:
        if s.sport is Sport.STRENGTH and self.rng.random() < 0.5:
            return Sport.WORKOUT
        if s.sport is Sport.TRAIL_RUN and self.rng.random() < 0.3:
            return Sport.RUN
        return s.sport


def _regps(rng: random.Random, distance: float | None, spread: float) -> float | None:
    """A provider recomputing distance from the track: typically 1 %, at most 3 % off."""
    if distance is None:
        return None
    return distance * (1 + max(-0.03, min(0.03, rng.gauss(0, spread))))


@dataclass(frozen=True, slots=True)
class PairCounts:
    """Pairs of records put in one group, against pairs that truly are one session."""

    true_positive: int
    false_positive: int
    false_negative: int

    @property
    def precision(self) -> float:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else 1.0

    @property
    def recall(self) -> float:
        real = self.true_positive + self.false_negative
        return self.true_positive / real if real else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class Evaluation:
    overall: PairCounts
    by_case: dict[str, PairCounts]
    review_expected: dict[str, int]
    """Per review kind, the records that should be left apart and shown (a wrong zone, twins)."""
    review_flagged: dict[str, int]
    review_items: dict[str, int]


def evaluate(history: History, result: MatchResult) -> Evaluation:
    """Pairwise precision and recall of `result` against the history's truth, per case.

    A pair that the truth expects to be left apart for review (a record with a wrong zone) is
    not counted as missed; if the matcher merges it anyway it still counts as found.
    """
    where = {id(record.candidate): n for n, record in enumerate(history.records)}
    records = history.records
    predicted: set[tuple[int, int]] = set()
    for group in result.groups:
        members = sorted(where[id(candidate)] for candidate in group)
        predicted.update(combinations(members, 2))
    counts: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for a, b in predicted:
        cases = {records[a].case, records[b].case}
        hit = records[a].session == records[b].session
        for case in cases:
            counts[case][0 if hit else 1] += 1
    by_session: defaultdict[int, list[int]] = defaultdict(list)
    for n, record in enumerate(records):
        by_session[record.session].append(n)
    for members in by_session.values():
        for a, b in combinations(members, 2):
            if (a, b) in predicted or records[a].expect_review or records[b].expect_review:
                continue
            counts[records[a].case][2] += 1
    flagged = {
        (id(candidate), item.kind) for item in result.review for candidate in item.candidates
    }
    expected: defaultdict[str, int] = defaultdict(int)
    found: defaultdict[str, int] = defaultdict(int)
    for record in records:
        if record.expect_review is not None:
            expected[record.expect_review] += 1
            found[record.expect_review] += (id(record.candidate), record.expect_review) in flagged
    items: defaultdict[str, int] = defaultdict(int)
    for item in result.review:
        items[item.kind] += 1
    return Evaluation(
        overall=PairCounts(*(sum(c[k] for c in counts.values()) for k in range(3))),
        by_case={case: PairCounts(*numbers) for case, numbers in sorted(counts.items())},
        review_expected=dict(sorted(expected.items())),
        review_flagged={kind: found[kind] for kind in sorted(expected)},
        review_items=dict(sorted(items.items())),
    )
