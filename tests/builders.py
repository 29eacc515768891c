"""Small generators of activity files and archives for self-contained tests."""

import io
import zipfile
from datetime import datetime
from pathlib import Path

from tracekit.files.gpx_writer import gpx_bytes as write_gpx
from tracekit.geo import loop_route


def gpx_bytes(
    start: datetime,
    *,
    lat: float = 41.98,
    lon: float = 2.82,
    points: int = 60,
    step_s: int = 10,
    name: str = "Test run",
    kind: str = "running",
) -> bytes:
    """A short timed loop (default: a run in Girona, Europe/Madrid)."""
    route = loop_route(lat, lon, 1600.0, points)
    elevations = [100.0 + i % 7 for i in range(points)]
    return write_gpx(start, route, step_s=step_s, name=name, kind=kind, elevations=elevations)


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
