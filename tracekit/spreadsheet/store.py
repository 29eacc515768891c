"""Keeping stored spreadsheet records in step when the sheet's row identities change."""

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracekit.providers.names import ProviderName
from tracekit.store.models import ProviderRecord


def adopt_row_ids(session: Session, renames: Mapping[str, str]) -> int:
    """Give stored rows their new ids (after a Tracekit ID column was added): the records keep
    their links, pins and history instead of reappearing as new rows. Returns how many."""
    if not renames:
        return 0
    records = session.scalars(
        select(ProviderRecord).where(
            ProviderRecord.provider == ProviderName.SPREADSHEET,
            ProviderRecord.provider_id.in_(list(renames)),
        )
    )
    count = 0
    for record in records:
        record.provider_id = renames[record.provider_id]
        count += 1
    return count
