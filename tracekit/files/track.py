"""A bounded-memory simplified track for previews.

Decoders feed every position to a TrackSampler; it keeps at most `capacity` evenly spaced points
however long the recording, then `finish()` reduces them with Ramer–Douglas–Peucker to at most
`MAX_TRACK_POINTS` points so a preview keeps the shape of the route.
"""

import heapq
import math

MAX_TRACK_POINTS = 300


class TrackSampler:
    __slots__ = ("_capacity", "_points", "_seen", "_stride")

    def __init__(self, capacity: int = 2048) -> None:
        self._capacity = capacity
        self._points: list[tuple[float, float]] = []
        self._stride = 1
        self._seen = 0

    def add(self, lat: float, lon: float) -> None:
        if self._seen % self._stride == 0:
            self._points.append((lat, lon))
            if len(self._points) >= self._capacity:
                # Keep every other point and sample half as often from now on.
                self._points = self._points[::2]
                self._stride *= 2
        self._seen += 1

    @property
    def first(self) -> tuple[float, float] | None:
        return self._points[0] if self._points else None

    def finish(self, max_points: int = MAX_TRACK_POINTS) -> tuple[tuple[float, float], ...]:
        points = [(round(lat, 6), round(lon, 6)) for lat, lon in self._points]
        return tuple(simplify(points, max_points))


def simplify(points: list[tuple[float, float]], max_points: int) -> list[tuple[float, float]]:
    """Reduce a polyline to at most `max_points`, keeping the points that carry its shape."""
    if len(points) <= max_points:
        return points
    # Ramer–Douglas–Peucker driven by a max-heap of deviations: split the worst segment until
    # the budget is spent, so the result keeps exactly the points that matter most.
    keep = {0, len(points) - 1}
    heap: list[tuple[float, int, int, int]] = []

    def push(start: int, end: int) -> None:
        if end - start > 1:
            distance, index = _farthest(points, start, end)
            heapq.heappush(heap, (-distance, index, start, end))

    push(0, len(points) - 1)
    while heap and len(keep) < max_points:
        negative, index, start, end = heapq.heappop(heap)
        if negative >= 0:
            break
        keep.add(index)
        push(start, index)
        push(index, end)
    return [points[i] for i in sorted(keep)]


def _farthest(points: list[tuple[float, float]], start: int, end: int) -> tuple[float, int]:
    (ay, ax), (by, bx) = points[start], points[end]
    dx, dy = bx - ax, by - ay
    length = math.hypot(dx, dy)
    best, best_index = -1.0, -1
    for i in range(start + 1, end):
        py, px = points[i]
        if length == 0:
            d = math.hypot(px - ax, py - ay)
        else:
            d = abs(dy * (px - ax) - dx * (py - ay)) / length
        if d > best:
            best, best_index = d, i
    return best, best_index
