"""An in-memory OS keyring for tests: secrets never touch a real keyring or a file."""

from collections.abc import Iterator
from contextlib import contextmanager

import keyring
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.compat import properties


class MemoryKeyring(KeyringBackend):
    """An in-memory keyring for tests (set explicitly with `keyring.set_keyring`)."""

    @properties.classproperty
    def priority(cls) -> float:
        # Not viable for keyring's own backend detection: only ever installed explicitly.
        raise RuntimeError("a test keyring")

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.writes = 0

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.writes += 1
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


@contextmanager
def installed_memory_keyring() -> Iterator[MemoryKeyring]:
    """A fresh in-memory keyring in use for the block; the previous one is restored after."""
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    try:
        yield ring
    finally:
        keyring.set_keyring(previous)


@contextmanager
def no_system_keyring() -> Iterator[None]:
    """No usable keyring for the block, as on a Linux desktop without a Secret Service."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)
