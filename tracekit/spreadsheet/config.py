"""A connected training log: its path, sheet, header row and mapping, kept in the settings table.

None of this is secret, so it lives in the database beside the other settings, under the key
the provider registry reads a connection from ("provider.spreadsheet"), where the CLI and the
window both find it.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tracekit.providers.connections import setting_key
from tracekit.providers.names import ProviderName
from tracekit.spreadsheet.mapping import (
    DateOrder,
    DistanceUnit,
    DurationUnit,
    SheetField,
    SheetMapping,
    detect_mapping,
    stated_units,
)
from tracekit.spreadsheet.table import SheetError, SheetTable
from tracekit.spreadsheet.values import (
    detect_date_order,
    has_written_unit,
    is_blank,
    is_time_format,
)
from tracekit.store.models import Setting

SETTING_KEY = setting_key(ProviderName.SPREADSHEET)


@dataclass(frozen=True, slots=True)
class SheetConfig:
    path: Path
    sheet: str | None
    header_row: int
    mapping: SheetMapping

    def as_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "sheet": self.sheet,
            "header_row": self.header_row,
            **self.mapping.as_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SheetConfig":
        return cls(
            path=Path(data["path"]),
            sheet=data.get("sheet"),
            header_row=int(data.get("header_row") or 1),
            mapping=SheetMapping.from_json(data),
        )


def load_sheet_config(session: Session) -> SheetConfig | None:
    row = session.get(Setting, SETTING_KEY)
    if row is None or not isinstance(row.value, dict) or "path" not in row.value:
        return None
    return SheetConfig.from_json(row.value)


def save_sheet_config(session: Session, config: SheetConfig) -> None:
    session.merge(Setting(key=SETTING_KEY, value=config.as_json()))


def forget_sheet_config(session: Session) -> bool:
    row = session.get(Setting, SETTING_KEY)
    if row is None:
        return False
    session.delete(row)
    return True


class Question(StrEnum):
    """What the headers and cells cannot tell, so the user must."""

    DISTANCE_UNIT = "distance_unit"
    DURATION_UNIT = "duration_unit"
    DATE_ORDER = "date_order"

    @property
    def prompt(self) -> str:
        return {
            Question.DISTANCE_UNIT: "Are the distances in this sheet in km or mi?",
            Question.DURATION_UNIT: "Bare numbers in the duration column are: s, min or h?",
            Question.DATE_ORDER: "Dates like 03/04/2024 are day/month (dmy) or month/day (mdy)?",
        }[self]

    @property
    def choices(self) -> list[str]:
        enum: type[StrEnum] = {
            Question.DISTANCE_UNIT: DistanceUnit,
            Question.DURATION_UNIT: DurationUnit,
            Question.DATE_ORDER: DateOrder,
        }[self]
        values = [m.value for m in enum]
        return (
            [v for v in values if v != DistanceUnit.M] if self is Question.DISTANCE_UNIT else values
        )


def detect_for(table: SheetTable) -> SheetMapping:
    """The headers' mapping, plus a date order the sheet's own dates prove (13/04 is d/m)."""
    mapping = detect_mapping(table.headers)
    order, _ = detect_date_order(c.value for c in table.values(mapping.header(SheetField.DATE)))
    return replace(mapping, date_order=order) if order is not None else mapping


def open_questions(table: SheetTable, mapping: SheetMapping) -> list[Question]:
    questions = []
    distance = table.values(mapping.header(SheetField.DISTANCE))
    if mapping.distance_unit is None and any(
        not is_blank(c.value) and not has_written_unit(c.value) for c in distance
    ):
        questions.append(Question.DISTANCE_UNIT)
    durations = table.values(mapping.header(SheetField.DURATION))
    if mapping.duration_unit is None and any(
        _bare_number(c.value, c.number_format) for c in durations
    ):
        questions.append(Question.DURATION_UNIT)
    if mapping.date_order is None:
        _, needs = detect_date_order(c.value for c in table.values(mapping.header(SheetField.DATE)))
        if needs:
            questions.append(Question.DATE_ORDER)
    return questions


def _bare_number(value: object, number_format: str | None) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return not is_time_format(number_format)
    if isinstance(value, str):
        text = value.strip().replace(",", ".")
        return bool(text) and text.replace(".", "", 1).isdigit()
    return False


def unit_conflicts(table: SheetTable, mapping: SheetMapping) -> list[str]:
    """Where the chosen units contradict what the headers state."""
    problems = []
    distance_header = mapping.header(SheetField.DISTANCE)
    if distance_header is not None and mapping.distance_unit is not None:
        stated, _ = stated_units(distance_header)
        if stated is not None and stated is not mapping.distance_unit:
            problems.append(
                f"the header {distance_header!r} says {stated.value}, "
                f"but {mapping.distance_unit.value} was chosen"
            )
    duration_header = mapping.header(SheetField.DURATION)
    if duration_header is not None and mapping.duration_unit is not None:
        _, stated_duration = stated_units(duration_header)
        if stated_duration is not None and stated_duration is not mapping.duration_unit:
            problems.append(
                f"the header {duration_header!r} says {stated_duration.value}, "
                f"but {mapping.duration_unit.value} was chosen"
            )
    return problems


def check_columns(table: SheetTable, mapping: SheetMapping) -> None:
    """Raise SheetError when the mapping names a column the sheet lacks, or has no date."""
    if mapping.header(SheetField.DATE) is None:
        raise SheetError(
            f"{table.path.name}: no date column found among the headers "
            f"({', '.join(h for h in table.headers if h) or 'none'}); name it with "
            "--column date=HEADER"
        )
    missing = [h for h in mapping.columns.values() if table.column(h) is None]
    if missing:
        raise SheetError(
            f"{table.path.name} has no column {', '.join(repr(h) for h in missing)} "
            f"(its headers: {', '.join(h for h in table.headers if h)})"
        )


def unmapped_headers(table: SheetTable, mapping: SheetMapping) -> Sequence[str]:
    used = {table.column(h) for h in mapping.columns.values()}
    return [h for i, h in enumerate(table.headers) if h and i not in used]
