"""Where a provider's connection is recorded: its non-secret settings row and its status.

Shared by every connect flow (the registry's, and Garmin's sign-in), so a connection looks the
same in the database whichever way it was made. Secrets are never here; they are in the keyring.
"""

from datetime import UTC, datetime
from typing import Any

from tracekit.providers.names import ProviderName
from tracekit.store.engine import Database
from tracekit.store.models import (
    Notification,
    NotificationLevel,
    ProviderState,
    ProviderStatus,
    Setting,
)


def setting_key(provider: ProviderName) -> str:
    return f"provider.{provider.value}"


def record_connection(
    db: Database,
    provider: ProviderName,
    settings: dict[str, Any],
    message: str,
    now: datetime | None = None,
) -> None:
    """Store the connection's settings, mark the provider OK, and tell the user."""
    now = now or datetime.now(UTC)
    with db.session() as session:
        row = session.get(Setting, setting_key(provider))
        if row is None:
            session.add(Setting(key=setting_key(provider), value=settings))
        else:
            row.value = settings
        status = session.get(ProviderStatus, provider)
        if status is None:
            status = ProviderStatus(provider=provider)
            session.add(status)
        status.state = ProviderState.OK
        status.error = None
        status.rate_limited_until = None
        status.last_operation = "connect"
        status.last_operation_at = now
        status.last_success_at = now
        session.add(
            Notification(
                created_at=now, level=NotificationLevel.INFO, message=message, provider=provider
            )
        )
