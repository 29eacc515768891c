"""What every command shares: the database the user pointed at, opened once and migrated.

The store (SQLAlchemy), the keyring and the provider clients are imported where they are first
used: every command imports this module, and most need only some of them (`gui` needs none).
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from tracekit.paths import archive_dir_for, database_url
from tracekit.providers.base import Capability, Provider
from tracekit.providers.names import ProviderName

if TYPE_CHECKING:
    from tracekit.settings import Settings
    from tracekit.store.engine import Database

PIPED_WIDTH = 160  # piped output is read by people too: do not squeeze tables to 80 columns


def _console(stderr: bool) -> Console:
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(stderr=stderr, width=PIPED_WIDTH)
    return console


@dataclass
class CliContext:
    db_path: Path | None
    console: Console = field(default_factory=lambda: _console(stderr=False))
    err: Console = field(default_factory=lambda: _console(stderr=True))
    _db: "Database | None" = None

    @property
    def url(self) -> str:
        return database_url(self.db_path)

    @property
    def db(self) -> "Database":
        from tracekit.store.engine import Database

        if self._db is None:
            self._db = Database(self.url)
        return self._db

    @property
    def archive_dir(self) -> Path:
        return archive_dir_for(self.url)

    @property
    def settings(self) -> "Settings":
        from tracekit.settings import load_settings

        with self.db.session() as session:
            return load_settings(session)

    def providers(self) -> dict[ProviderName, Provider]:
        """The connected providers; raises CredentialStoreUnavailable without a keyring."""
        from tracekit.credentials import Credentials
        from tracekit.providers.registry import connected_providers

        return connected_providers(self.db, Credentials())

    def capabilities(self) -> dict[ProviderName, frozenset[Capability]]:
        """What each connected provider can do; none when the keyring is unavailable (reading
        and reviewing never need it)."""
        from tracekit.credentials import CredentialStoreUnavailable

        try:
            return {name: p.capabilities for name, p in self.providers().items()}
        except CredentialStoreUnavailable:
            return {}

    def confirm(self, question: str, assume_yes: bool) -> bool:
        """Ask on a terminal; without one, only an explicit --yes says yes."""
        if assume_yes:
            return True
        if not self.console.is_terminal:
            self.err.print(f"{question} Not a terminal: add --yes to go ahead.")
            return False
        answer = self.console.input(f"{question} [y/N] ")
        return answer.strip().lower() in ("y", "yes")

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
