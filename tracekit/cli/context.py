"""What every command shares: the database the user pointed at, opened once and migrated."""

from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from tracekit.paths import archive_dir_for, database_url
from tracekit.store.engine import Database


@dataclass
class CliContext:
    db_path: Path | None
    console: Console = field(default_factory=Console)
    err: Console = field(default_factory=lambda: Console(stderr=True))
    _db: Database | None = None

    @property
    def url(self) -> str:
        return database_url(self.db_path)

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.url)
        return self._db

    @property
    def archive_dir(self) -> Path:
        return archive_dir_for(self.url)

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
