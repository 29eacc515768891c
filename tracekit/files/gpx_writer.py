"""Writing GPX tracks, for the demo data and for self-contained tests."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape


def gpx_bytes(
    start: datetime,
    points: Sequence[tuple[float, float]],
    *,
    step_s: float,
    name: str | None = None,
    kind: str | None = None,
    elevations: Sequence[float] | None = None,
    creator: str = "Tracekit",
) -> bytes:
    """A GPX 1.1 file with one track whose points are `step_s` seconds apart."""
    start = start.astimezone(UTC)
    rows = []
    for i, (lat, lon) in enumerate(points):
        stamp = (start + timedelta(seconds=i * step_s)).strftime("%Y-%m-%dT%H:%M:%SZ")
        ele = f"<ele>{elevations[i]:.1f}</ele>" if elevations else ""
        rows.append(f'<trkpt lat="{lat:.6f}" lon="{lon:.6f}">{ele}<time>{stamp}</time></trkpt>')
    head = f"<name>{escape(name)}</name>" if name else ""
    head += f"<type>{escape(kind)}</type>" if kind else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<gpx version="1.1" creator="{escape(creator)}" '
        'xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk>{head}<trkseg>{''.join(rows)}</trkseg></trk></gpx>\n"
    ).encode()
