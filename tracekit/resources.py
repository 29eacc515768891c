"""Files that ship with Tracekit (the app icon, …): found the same way from a source checkout and
from a PyInstaller bundle.

Read-only program files live here; the user's data never does (see `tracekit.paths`).

* Source checkout (or editable install): `<repo>/resources/`, next to the `tracekit` package.
* PyInstaller bundle: `<sys._MEIPASS>/resources/` (the spec copies `resources/icons` there).
  `sys._MEIPASS` is the `_internal` folder of a one-folder bundle and `Contents/Frameworks`
  (with symlinks into `Contents/Resources`) in a macOS `.app`.

Qt-free, like the rest of `tracekit/`.
"""

import os
import sys
from pathlib import Path

RESOURCES_DIRNAME = "resources"
ICON_NAME = "tracekit"
ICON_PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
MARKER = Path("icons") / f"{ICON_NAME}-256.png"


def is_frozen() -> bool:
    """True inside a PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False)) and hasattr(sys, "_MEIPASS")


def bundle_dir() -> Path | None:
    """The bundle's internal folder (`sys._MEIPASS`) when frozen, else None."""
    meipass = getattr(sys, "_MEIPASS", None)
    return Path(meipass) if is_frozen() and meipass else None


def _candidates() -> list[Path]:
    found: list[Path] = []
    if (frozen := bundle_dir()) is not None:
        found.append(frozen / RESOURCES_DIRNAME)
    # tracekit/resources.py -> the folder holding the package: the repo root in a checkout,
    # `_internal/` in a bundle (where __file__ points under PyInstaller 6).
    found.append(Path(__file__).resolve().parent.parent / RESOURCES_DIRNAME)
    return found


def resources_dir() -> Path:
    """The folder with Tracekit's bundled resources; FileNotFoundError naming where it looked.

    TRACEKIT_RESOURCES_DIR overrides it. Otherwise a folder counts only if it holds our icon,
    so a stray `site-packages/resources` from another distribution is never picked up.
    """
    if override := os.environ.get("TRACEKIT_RESOURCES_DIR"):
        return Path(override)
    candidates = _candidates()
    for candidate in candidates:
        if (candidate / MARKER).is_file():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"Tracekit's resources folder was not found (looked in {looked})")


def resource_path(*parts: str) -> Path:
    """The path of one resource file, e.g. `resource_path("icons", "tracekit.ico")`."""
    path = resources_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"Tracekit resource missing: {path}")
    return path


def icons_dir() -> Path:
    return resource_path("icons")


def app_icon_png(size: int = 256) -> Path:
    """The app icon as a PNG: the smallest shipped size of at least `size` px, else the largest."""
    best = next((s for s in ICON_PNG_SIZES if s >= size), ICON_PNG_SIZES[-1])
    return resource_path("icons", f"{ICON_NAME}-{best}.png")


def app_icon_pngs() -> dict[int, Path]:
    """Every shipped PNG size of the app icon, smallest first (for a QIcon with all sizes)."""
    folder = icons_dir()
    return {s: folder / f"{ICON_NAME}-{s}.png" for s in ICON_PNG_SIZES}


def app_icon_file() -> Path:
    """The platform's native icon file: .ico on Windows, .icns on macOS, a 256 px PNG elsewhere."""
    if sys.platform == "win32":
        return resource_path("icons", f"{ICON_NAME}.ico")
    if sys.platform == "darwin":
        return resource_path("icons", f"{ICON_NAME}.icns")
    return app_icon_png(256)
