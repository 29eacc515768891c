"""Shared fixtures: every test gets its own data folder and real, migrated SQLite files."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracekit.paths import archive_dir_for, sqlite_url
from tracekit.store.engine import Database


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test may touch the real user data folder or inherit a database from the environment."""
    data = tmp_path / "userdata"
    monkeypatch.setenv("TRACEKIT_DATA_DIR", str(data))
    monkeypatch.delenv("TRACEKIT_DB", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return data


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db" / "tracekit.sqlite3"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = Database(sqlite_url(db_path))
    yield database
    database.dispose()


@pytest.fixture
def archive_dir(db: Database) -> Path:
    return archive_dir_for(db.url)


def samples_dir() -> Path | None:
    """The shared sample corpus, when this checkout has it beside it."""
    configured = os.environ.get("TRACEKIT_SAMPLES")
    candidate = (
        Path(configured)
        if configured
        else Path(__file__).resolve().parents[1].parent / "shared" / "samples"
    )
    return candidate if candidate.is_dir() else None


@pytest.fixture
def samples() -> Path:
    found = samples_dir()
    if found is None:
        pytest.skip("the shared sample corpus (../shared/samples or TRACEKIT_SAMPLES) is absent")
    return found
