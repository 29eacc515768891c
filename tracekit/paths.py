"""Where Tracekit keeps its files.

Everything lives in the platform's user data folder (platformdirs), never next to the program,
so an installed app and a source checkout behave the same. The archive of original activity files
sits beside the database it belongs to, so a database pointed elsewhere (`--db`, tests, the demo)
never mixes its files with the user's.
"""

import os
from pathlib import Path

from platformdirs import user_data_dir

APP_NAME = "Tracekit"
DB_FILENAME = "tracekit.sqlite3"
DEMO_DB_FILENAME = "tracekit-demo.sqlite3"


def data_dir() -> Path:
    """The user data folder; TRACEKIT_DATA_DIR overrides it (tests, portable installs)."""
    override = os.environ.get("TRACEKIT_DATA_DIR")
    return Path(override) if override else Path(user_data_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    return data_dir() / DB_FILENAME


def demo_db_path() -> Path:
    return data_dir() / "demo" / DEMO_DB_FILENAME


def database_url(db_path: str | os.PathLike[str] | None = None) -> str:
    """The SQLAlchemy URL to open: --db, then TRACEKIT_DB, then DATABASE_URL, then the default."""
    if db_path is not None:
        return sqlite_url(Path(db_path))
    if env_path := os.environ.get("TRACEKIT_DB"):
        return sqlite_url(Path(env_path))
    if env_url := os.environ.get("DATABASE_URL"):
        return env_url
    return sqlite_url(default_db_path())


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.expanduser().resolve()}"


def archive_dir_for(url: str) -> Path:
    """The managed archive folder for the database at `url`."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != prefix and ":memory:" not in url:
        return Path(url.removeprefix(prefix)).parent / "archive"
    return data_dir() / "archive"
