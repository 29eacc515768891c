"""Small geodesy helpers shared by decoders and generators."""

import math

EARTH_RADIUS_M = 6_371_008.8


_EARTH_DIAMETER_M = 2 * EARTH_RADIUS_M
_RADIAN = math.pi / 180
_HALF_RADIAN = _RADIAN / 2


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance; it runs for every track point, hence the plain-arithmetic spelling."""
    half_dlat = math.sin((lat2 - lat1) * _HALF_RADIAN)
    half_dlon = math.sin((lon2 - lon1) * _HALF_RADIAN)
    cosines = math.cos(lat1 * _RADIAN) * math.cos(lat2 * _RADIAN)
    a = half_dlat * half_dlat + cosines * half_dlon * half_dlon
    return _EARTH_DIAMETER_M * math.asin(math.sqrt(min(a, 1.0)))


def loop_route(
    lat: float, lon: float, length_m: float, points: int, wobble: float = 0.0
) -> list[tuple[float, float]]:
    """A closed loop of about `length_m` starting and ending near (lat, lon).

    `wobble` (0–0.3) bends the circle so generated routes do not all look alike.
    """
    radius = length_m / (2 * math.pi)
    lat_scale = 1 / 111_320
    lon_scale = 1 / (111_320 * math.cos(math.radians(lat)))
    route = []
    for i in range(points):
        angle = 2 * math.pi * i / max(points - 1, 1)
        r = radius * (1 + wobble * math.sin(3 * angle))
        route.append(
            (
                lat + r * math.sin(angle) * lat_scale,
                lon + r * (math.cos(angle) - 1) * lon_scale,
            )
        )
    return route
