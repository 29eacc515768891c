"""Secrets (API keys, OAuth token sets) live only in the operating system's keyring.

Each secret is one keyring entry: service "Tracekit", user name "<provider>:<key>". A token set is
one JSON blob, so a refreshed set replaces the old one in a single `set_password` and a reader never
sees a new access token beside a stale refresh token. Nothing here ever falls back to a file:
without a usable keyring every call raises `CredentialStoreUnavailable`, whose message says what
to install or unlock. Secrets never appear in messages, reprs or logs.
"""

import json
import sys
from typing import Any

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, KeyringLocked, PasswordDeleteError

from tracekit.providers.names import ProviderName

SERVICE = "Tracekit"

# Backends that "work" but do not protect anything: plain files, or silently dropping secrets.
_INSECURE_MODULES = ("keyrings.alt", "keyring.backends.null", "keyring.backends.fail")


class CredentialStoreUnavailable(Exception):
    """No usable system keyring: the message tells the user how to get one."""


def _platform_advice() -> str:
    if sys.platform == "darwin":
        return "Unlock your login Keychain (Keychain Access) and try again."
    if sys.platform.startswith("win"):
        return "Make sure Windows Credential Manager is available for your account and try again."
    return (
        "Install and unlock a Secret Service keyring such as GNOME Keyring or KWallet "
        "(for example `sudo apt install gnome-keyring`), make sure it runs in your desktop "
        "session, and try again."
    )


def _unavailable(reason: str) -> CredentialStoreUnavailable:
    return CredentialStoreUnavailable(
        f"Tracekit keeps API keys and tokens only in your system keyring, and {reason}. "
        f"{_platform_advice()}"
    )


def _first_backend(backend: KeyringBackend) -> KeyringBackend | None:
    """The backend a write goes to (a chainer writes to its first member)."""
    members = getattr(backend, "backends", None)
    if isinstance(members, list):
        return members[0] if members else None
    return backend


def _is_secure(backend: KeyringBackend | None) -> bool:
    return backend is not None and not type(backend).__module__.startswith(_INSECURE_MODULES)


class Credentials:
    """The secrets of every provider, kept in the keyring in effect when each call is made."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service

    def __repr__(self) -> str:
        return f"Credentials(service={self.service!r})"

    def _backend(self) -> KeyringBackend:
        backend = keyring.get_keyring()
        if not _is_secure(_first_backend(backend)):
            raise _unavailable("no secure keyring is available on this computer")
        return backend

    @staticmethod
    def _username(provider: ProviderName, key: str) -> str:
        return f"{provider.value}:{key}"

    def load(self, provider: ProviderName, key: str) -> str | None:
        backend = self._backend()
        try:
            return backend.get_password(self.service, self._username(provider, key))
        except KeyringLocked:
            raise _unavailable("the keyring is locked") from None
        except KeyringError as error:
            raise _unavailable(f"the keyring could not be read ({type(error).__name__})") from None

    def save(self, provider: ProviderName, key: str, secret: str) -> None:
        if not secret:
            raise ValueError("an empty secret cannot be saved")
        backend = self._backend()
        try:
            backend.set_password(self.service, self._username(provider, key), secret)
        except KeyringLocked:
            raise _unavailable("the keyring is locked") from None
        except KeyringError as error:
            raise _unavailable(
                f"the keyring refused to store the secret ({type(error).__name__})"
            ) from None

    def delete(self, provider: ProviderName, key: str) -> bool:
        """Remove one secret; False when there was none."""
        backend = self._backend()
        username = self._username(provider, key)
        try:
            if backend.get_password(self.service, username) is None:
                return False
            backend.delete_password(self.service, username)
        except PasswordDeleteError:
            return False
        except KeyringLocked:
            raise _unavailable("the keyring is locked") from None
        except KeyringError as error:
            raise _unavailable(
                f"the keyring could not delete the secret ({type(error).__name__})"
            ) from None
        return True

    def save_json(self, provider: ProviderName, key: str, value: dict[str, Any]) -> None:
        """Store a structured secret (a token set) as one entry, replacing the old one whole."""
        self.save(provider, key, json.dumps(value, separators=(",", ":"), sort_keys=True))

    def load_json(self, provider: ProviderName, key: str) -> dict[str, Any] | None:
        raw = self.load(provider, key)
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            return None  # not ours, or damaged: treat as absent so the user reconnects
        return value if isinstance(value, dict) else None
