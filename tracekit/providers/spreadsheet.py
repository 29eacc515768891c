"""The user's training log (.xlsx or .csv) as a provider.

Reading: every pull reads the file afresh (a log is small) and yields one activity per dated
row, keyed by a row identity that survives sorting and inserted rows (see
`tracekit.spreadsheet.rows`). Rows that cannot be read are skipped and listed in `problems`.

Writing — only through an approved change, like every provider: rename (the name column, or the
notes column when the sheet has no name column), set_description (the notes column, when there
is also a name column), set_gear (the gear column; a spreadsheet's gear id is the gear's name),
and `add_entry`, a row for a session the log lacks. Each write makes a timestamped backup and
replaces the file atomically (`tracekit.spreadsheet.writer`).
`upload` takes a file, and a log has no file to take, only values: hence `add_entry`.
"""

import secrets
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from tracekit.providers.base import (
    Capability,
    NewEntry,
    Provider,
    ProviderError,
    RemoteActivity,
    RemoteGear,
    UploadResult,
)
from tracekit.providers.names import ProviderName
from tracekit.settings import load_settings
from tracekit.spreadsheet.compose import row_cells
from tracekit.spreadsheet.config import SheetConfig, load_sheet_config
from tracekit.spreadsheet.mapping import ROW_ID_HEADER, SheetField
from tracekit.spreadsheet.rows import (
    ID_PREFIX,
    ParsedRow,
    ParsedSheet,
    RowProblem,
    column_indexes,
    local_window,
    parse_sheet,
)
from tracekit.spreadsheet.table import SheetError, SheetTable, read_table
from tracekit.spreadsheet.values import CellError
from tracekit.spreadsheet.writer import SheetEdit, SheetLocked, WriteResult, write_sheet

__all__ = ["SheetBusy", "SpreadsheetProvider"]


class SheetBusy(ProviderError):
    """The log is open in another program; nothing was written. Retrying later may work."""


class SpreadsheetProvider(Provider):
    name = ProviderName.SPREADSHEET
    pulls_whole = True

    def __init__(self, config: SheetConfig, home_timezone: str | None) -> None:
        self.config = config
        self.home_timezone = home_timezone
        columns = config.mapping.columns
        capabilities = {Capability.READ, Capability.ADD_ENTRY}
        if SheetField.NAME in columns or SheetField.NOTES in columns:
            capabilities.add(Capability.RENAME)
        if SheetField.NAME in columns and SheetField.NOTES in columns:
            capabilities.add(Capability.SET_DESCRIPTION)
        if SheetField.GEAR in columns:
            capabilities.add(Capability.SET_GEAR)
        self.capabilities = frozenset(capabilities)
        self.problems: list[RowProblem] = []
        self.last_write: WriteResult | None = None

    @classmethod
    def from_settings(cls, session: Session) -> "SpreadsheetProvider | None":
        config = load_sheet_config(session)
        if config is None:
            return None
        return cls(config, load_settings(session).home_timezone)

    # -------------------------------------------------------------------------------- reading

    def read(self) -> tuple[SheetTable, ParsedSheet]:
        try:
            table = read_table(self.config.path, self.config.sheet, self.config.header_row)
            parsed = parse_sheet(table, self.config.mapping, self.home_timezone)
        except (SheetError, CellError) as exc:
            raise ProviderError(self.name, str(exc)) from None
        self.problems = parsed.problems
        return table, parsed

    def pull(self, since: datetime | None, until: datetime | None) -> Iterator[RemoteActivity]:
        _, parsed = self.read()
        low, high = local_window(since, until)
        for row in parsed.rows:
            activity = row.activity
            if activity.start_utc is not None:
                if (since is None or activity.start_utc >= since) and (
                    until is None or activity.start_utc < until
                ):
                    yield activity
            elif activity.start_local is not None and low <= activity.start_local < high:
                yield activity

    def fetch(self, provider_id: str) -> RemoteActivity:
        _, parsed = self.read()
        return self._row(parsed, provider_id).activity

    def gear(self) -> list[RemoteGear]:
        _, parsed = self.read()
        names = sorted({r.activity.gear_id for r in parsed.rows if r.activity.gear_id})
        return [RemoteGear(provider_gear_id=name, name=name) for name in names]

    # -------------------------------------------------------------------------------- writing

    def rename(self, provider_id: str, name: str) -> None:
        mapping = self.config.mapping
        which = SheetField.NAME if SheetField.NAME in mapping.columns else SheetField.NOTES
        self._set(provider_id, which, name, Capability.RENAME)

    def set_description(self, provider_id: str, description: str) -> None:
        self._set(provider_id, SheetField.NOTES, description, Capability.SET_DESCRIPTION)

    def set_gear(self, provider_id: str, gear_id: str | None) -> None:
        """`gear_id` is the gear's name, as this sheet's gear list gives it; None clears it."""
        self._set(provider_id, SheetField.GEAR, gear_id, Capability.SET_GEAR)

    def add_entry(self, entry: NewEntry) -> UploadResult:
        """Append a row for `entry`. A row already carrying one of its provider ids is that
        session: nothing is added and that row is returned as a duplicate."""
        table, parsed = self.read()
        for row in parsed.rows:
            if row.activity.evidence & entry.evidence:
                return UploadResult(row.key, duplicate=True)
        row_id = _new_row_id() if SheetField.ROW_ID in self.config.mapping.columns else None
        try:
            cells = row_cells(table, self.config.mapping, entry, self.home_timezone, row_id)
        except ValueError as exc:
            raise ProviderError(self.name, f"cannot add a row: {exc}") from None
        result = self._write(table, SheetEdit(appended=[cells]))
        (number,) = result.appended_rows
        _, after = self.read()
        added = next((r for r in after.rows if r.row == number), None)
        if added is None:
            raise ProviderError(self.name, f"row {number} was written but cannot be read back")
        return UploadResult(added.key)

    def add_row_ids(self) -> tuple[SheetConfig, dict[str, str]]:
        """Add a Tracekit ID column (the user approved it): every dated row gets an id.

        Returns the new configuration (save it) and old provider id → new provider id for the
        records already stored (`tracekit.spreadsheet.store.adopt_row_ids`).
        """
        table, parsed = self.read()
        mapping = self.config.mapping
        edit = SheetEdit()
        renames: dict[str, str] = {}
        existing = column_indexes(table, mapping).get(SheetField.ROW_ID)
        header = mapping.header(SheetField.ROW_ID) or ROW_ID_HEADER
        if existing is None and table.column(header) is not None:
            existing = table.column(header)
        for row in parsed.rows:
            if row.key.startswith(ID_PREFIX):
                continue
            new_id = _new_row_id()
            renames[row.key] = ID_PREFIX + new_id
            if existing is None:
                edit.new_column_values[row.row] = new_id
            else:
                edit.set(row.row, existing, new_id)
        if existing is None:
            edit.new_column = header
        if renames or existing is None:
            self._write(table, edit)
        self.config = replace(self.config, mapping=mapping.with_column(SheetField.ROW_ID, header))
        self.read()  # the new column must read back
        return self.config, renames

    def _set(
        self, provider_id: str, which: SheetField, value: str | None, capability: Capability
    ) -> None:
        if not self.can(capability):
            raise self._unsupported(capability)
        table, parsed = self.read()
        row = self._row(parsed, provider_id)
        index = table.column(self.config.mapping.header(which))
        if index is None:
            raise ProviderError(
                self.name, f"the {which.label} column is no longer in {table.path.name}"
            )
        edit = SheetEdit()
        edit.set(row.row, index, value or None)
        self._write(table, edit)

    def _write(self, table: SheetTable, edit: SheetEdit) -> WriteResult:
        try:
            self.last_write = write_sheet(table, edit, datetime.now(UTC))
        except SheetLocked as exc:
            raise SheetBusy(self.name, str(exc)) from None
        except SheetError as exc:
            raise ProviderError(self.name, str(exc)) from None
        except OSError as exc:
            raise ProviderError(
                self.name, f"could not write {table.path.name} ({exc}); nothing was changed"
            ) from None
        return self.last_write

    def _row(self, parsed: ParsedSheet, provider_id: str) -> ParsedRow:
        found = parsed.find(provider_id)
        if found is None:
            raise ProviderError(
                self.name,
                f"no row {provider_id} in {self.config.path.name} any more "
                "(its date or sport was edited, or it was deleted); pull the sheet again",
            )
        return found


def _new_row_id() -> str:
    return "tk-" + secrets.token_hex(5)
