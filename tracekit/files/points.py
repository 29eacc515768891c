"""Measuring a track point by point, the same way for GPX and TCX, in constant memory."""

from datetime import UTC, datetime
from math import isfinite

from tracekit.files.track import TrackSampler
from tracekit.geo import haversine_m
from tracekit.timezones import local_wall_clock, zone_at

# Average speed below which an interval between two samples counts as standing still.
MOVING_SPEED_MS = 0.5
# Samples further apart than this bracket a pause (auto-pause, recording stopped): the interval is
# not moving time whatever distance it spans. Five minutes, because GPSBabel-style track logs and
# "smart recording" write a point only every 10 s to 3 min while the user is really moving.
PAUSE_GAP_S = 300.0
# Elevation must rise this much above the last low point before a climb counts, so GPS and
# barometer noise of a metre or two on flat ground adds no ascent.
ASCENT_HYSTERESIS_M = 3.0

NO_TIMES = "no activity in this file (track points have no times)"


def parse_time(text: str | None) -> datetime | None:
    """An aware UTC datetime from an ISO 8601 stamp (naive stamps are UTC, as GPX and TCX say).

    An unreadable stamp gives None: one garbled point must not cost the whole recording. So does
    a stamp whose UTC time falls outside the calendar Python knows (year 1 with a + offset).
    """
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def parse_float(text: str | None) -> float | None:
    """A finite number from element text, or None when it is missing or unreadable."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if isfinite(value) else None


class PointStats:
    """Running totals over the points of one activity, in constant memory.

    Rules, the same for GPX and TCX:
    - distance: haversine between consecutive positions of a segment; segments are not bridged
      (the gap between them is a pause or a signal loss, not a straight line travelled).
    - moving time: an interval between two timed points of a segment counts when it is at most
      PAUSE_GAP_S long and its average speed is at least MOVING_SPEED_MS. Speed comes from the
      device's own distance counter when both points carry one (TCX), else from the positions in
      between; with neither, or when the whole recording never moves (an indoor ride whose
      odometer stays at zero), speed tells nothing and only the pause rule applies.
    - ascent: positive elevation change with ASCENT_HYSTERESIS_M of hysteresis, over all points.
    - heart rate: mean and maximum of the positive samples.
    """

    __slots__ = (
        "_active_s",
        "_climbing",
        "_cum_m",
        "_hr_count",
        "_hr_sum",
        "_last_pos",
        "_mark",
        "_moved",
        "_moving_s",
        "_peak",
        "_trough",
        "ascent_m",
        "distance_m",
        "first_position",
        "first_time",
        "last_time",
        "max_hr",
        "sampler",
    )

    def __init__(self) -> None:
        self.sampler = TrackSampler()
        self.first_time: datetime | None = None
        self.last_time: datetime | None = None
        self.first_position: tuple[float, float] | None = None
        self.distance_m = 0.0
        self._moving_s = 0.0  # intervals that pass the speed rule
        self._active_s = 0.0  # intervals that pass the pause rule
        self._moved = False
        self.ascent_m: float | None = None
        self.max_hr: float | None = None
        self._hr_sum = 0.0
        self._hr_count = 0
        self._last_pos: tuple[float, float] | None = None
        self._cum_m = 0.0
        # Last timed point of the segment: (epoch s, cumulative m, had a position, odometer m).
        self._mark: tuple[float, float, bool, float | None] | None = None
        self._climbing = False
        self._trough = 0.0
        self._peak = 0.0

    def new_segment(self) -> None:
        self._last_pos = None
        self._mark = None

    def add(
        self,
        time: datetime | None,
        lat: float | None,
        lon: float | None,
        ele: float | None = None,
        hr: float | None = None,
        odometer: float | None = None,
    ) -> None:
        positioned = False
        if lat is not None and lon is not None and -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0:
            positioned = True
            last = self._last_pos
            if last is not None:
                step = haversine_m(last[0], last[1], lat, lon)
                self.distance_m += step
                self._cum_m += step
            elif self.first_position is None:
                self.first_position = (lat, lon)
            self._last_pos = (lat, lon)
            self.sampler.add(lat, lon)
        if ele is not None:
            self._climb(ele)
        if hr is not None and hr > 0:
            self._hr_sum += hr
            self._hr_count += 1
            if self.max_hr is None or hr > self.max_hr:
                self.max_hr = hr
        if time is None:
            return
        if self.first_time is None:
            self.first_time = time
        self.last_time = time
        seconds = time.timestamp()
        mark = self._mark
        if mark is not None:
            dt = seconds - mark[0]
            if 0 < dt <= PAUSE_GAP_S:
                self._active_s += dt
                if odometer is not None and mark[3] is not None:
                    moved: float | None = odometer - mark[3]
                elif positioned and mark[2]:
                    moved = self._cum_m - mark[1]
                else:
                    moved = None
                if moved is None or moved >= MOVING_SPEED_MS * dt:
                    self._moving_s += dt
                if moved is not None and moved > 0:
                    self._moved = True
        self._mark = (seconds, self._cum_m, positioned, odometer)

    def _climb(self, ele: float) -> None:
        # A Schmitt trigger: a climb starts once the elevation is ASCENT_HYSTERESIS_M above the
        # lowest point since the last peak, and ends once it falls that far below its peak.
        if self.ascent_m is None:
            self.ascent_m = 0.0
            self._trough = self._peak = ele
        elif self._climbing:
            if ele > self._peak:
                self.ascent_m += ele - self._peak
                self._peak = ele
            elif self._peak - ele >= ASCENT_HYSTERESIS_M:
                self._climbing = False
                self._trough = ele
        elif ele < self._trough:
            self._trough = ele
        elif ele - self._trough >= ASCENT_HYSTERESIS_M:
            self._climbing = True
            self.ascent_m += ele - self._trough
            self._peak = ele

    @property
    def moving_s(self) -> float:
        return self._moving_s if self._moved else self._active_s

    @property
    def avg_hr(self) -> float | None:
        return self._hr_sum / self._hr_count if self._hr_count else None

    @property
    def elapsed_s(self) -> float | None:
        """Last minus first timed point; None when the clock runs backwards."""
        if self.first_time is None or self.last_time is None:
            return None
        elapsed = (self.last_time - self.first_time).total_seconds()
        return elapsed if elapsed >= 0 else None

    def place(self, start_utc: datetime) -> tuple[str | None, datetime | None]:
        """The time zone at the first position, and the local wall clock at `start_utc`."""
        if self.first_position is None:
            return None, None
        zone = zone_at(*self.first_position)
        if zone is None:
            return None, None
        try:
            return zone, local_wall_clock(start_utc, zone)
        except OverflowError:  # a start in year 1 or 9999 may have no local date
            return zone, None
