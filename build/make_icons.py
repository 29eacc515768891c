"""Draw Tracekit's app icon and write it as PNGs, a Windows .ico and a macOS .icns.

    .venv/bin/python build/make_icons.py        # writes resources/icons/ (committed)

The mark: a white calendar page with an amber header on the app's blue (the same blue gradient
and amber finish dot as the window icon drawn in `ui/icons.py`), with a route climbing across
the page. Sizes up to 32 px use a simpler drawing (no binder rings, thicker route) and the day
grid starts at 64 px, so small icons stay crisp in a taskbar. Needs only Pillow (the `build`
extra). The output is deterministic for a given Pillow version; re-run it after changing the
drawing.
"""

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "icons"
NAME = "tracekit"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)
SUPERSAMPLE = 4

BLUE_TOP = (59, 130, 246)  # #3b82f6, as ui/icons.py
BLUE_BOTTOM = (30, 64, 175)  # #1e40af
INK = (30, 58, 138)  # #1e3a8a: binder rings, dot outline
ROUTE = (37, 99, 235)  # #2563eb
AMBER = (245, 158, 11)  # #f59e0b
GRID = (203, 213, 225)  # #cbd5e1
WHITE = (255, 255, 255)

Point = tuple[float, float]


def _gradient(size: int) -> Image.Image:
    """A vertical blue gradient filling a size×size square."""
    mask = Image.linear_gradient("L").resize((size, size))
    top = Image.new("RGB", (size, size), BLUE_TOP)
    bottom = Image.new("RGB", (size, size), BLUE_BOTTOM)
    return Image.composite(bottom, top, mask)


def _polyline(draw: ImageDraw.ImageDraw, points: list[Point], width: float, fill: object) -> None:
    """A stroke with round caps and joins."""
    draw.line(points, fill=fill, width=round(width), joint="curve")  # type: ignore[arg-type]
    r = width / 2
    for x, y in (points[0], points[-1]):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)  # type: ignore[arg-type]


def draw_mark(size: int, *, simple: bool, grid: bool = True, inset: float = 0.0) -> Image.Image:
    """The icon at `size` px (drawn SUPERSAMPLE× larger, then downsampled).

    `inset` leaves a transparent margin (macOS draws icons smaller than their canvas)."""
    big = size * SUPERSAMPLE
    canvas = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    art = round(big * (1 - 2 * inset))
    off = (big - art) // 2

    def p(x: float, y: float) -> Point:
        return (off + x * art, off + y * art)

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        return (*p(x0, y0), *p(x1, y1))

    # The blue tile.
    tile_mask = Image.new("L", (big, big), 0)
    ImageDraw.Draw(tile_mask).rounded_rectangle(
        box(0, 0, 1, 1), radius=art * (0.19 if simple else 0.225), fill=255
    )
    canvas.paste(_gradient(big), (0, 0), tile_mask)
    draw = ImageDraw.Draw(canvas)

    # The calendar page with its amber header.
    if simple:
        page, header_bottom, radius = (0.14, 0.19, 0.86, 0.86), 0.38, 0.09
    else:
        page, header_bottom, radius = (0.17, 0.22, 0.83, 0.84), 0.37, 0.075
    x0, _, x1, y1 = page
    draw.rounded_rectangle(box(*page), radius=art * radius, fill=WHITE)
    header = Image.new("L", (big, big), 0)
    ImageDraw.Draw(header).rounded_rectangle(box(*page), radius=art * radius, fill=255)
    ImageDraw.Draw(header).rectangle(box(x0, header_bottom, x1, y1), fill=0)
    canvas.paste(Image.new("RGB", (big, big), AMBER), (0, 0), header)

    if not simple:
        # Binder rings over the header, and a faint grid of days on the page.
        for cx in (0.35, 0.65):
            draw.rounded_rectangle(
                box(cx - 0.028, 0.15, cx + 0.028, 0.29), radius=art * 0.028, fill=INK
            )
    if not simple and grid:
        r = art * 0.017
        for row in range(3):
            for col in range(5):
                gx, gy = 0.27 + col * 0.115, 0.49 + row * 0.115
                if abs(gx - 0.72) < 0.1 and abs(gy - 0.49) < 0.1:
                    continue  # under the finish dot
                cx, cy = p(gx, gy)
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=GRID)

    # The route climbing across the page, ending at the amber finish dot.
    if simple:
        route = [p(0.26, 0.75), p(0.44, 0.56), p(0.56, 0.67), p(0.76, 0.48)]
        _polyline(draw, route, art * 0.11, ROUTE)
    else:
        route = [p(0.27, 0.74), p(0.42, 0.56), p(0.55, 0.67), p(0.72, 0.49)]
        _polyline(draw, route, art * 0.07, ROUTE)
        cx, cy = route[-1]
        outer, inner = art * 0.085, art * 0.058
        draw.ellipse((cx - outer, cy - outer, cx + outer, cy + outer), fill=INK)
        draw.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), fill=AMBER)

    return canvas.resize((size, size), Image.Resampling.LANCZOS)


def icon(size: int, *, inset: float = 0.0) -> Image.Image:
    return draw_mark(size, simple=size <= 32, grid=size >= 64, inset=inset)


def write_all(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for size in PNG_SIZES:
        path = out / f"{NAME}-{size}.png"
        icon(size).save(path, optimize=True)
        written.append(path)

    ico = [icon(s) for s in ICO_SIZES]
    path = out / f"{NAME}.ico"
    ico[-1].save(path, sizes=[(s, s) for s in ICO_SIZES], append_images=ico[:-1])
    written.append(path)

    # macOS: the art sits inside the canvas with a margin (Apple's icon grid: 824 of 1024).
    icns = [icon(s, inset=0.1) for s in ICNS_SIZES]
    path = out / f"{NAME}.icns"
    icns[-1].save(path, append_images=icns[:-1])
    written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    args = parser.parse_args(argv)
    for path in write_all(args.out):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
