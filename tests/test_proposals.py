"""What is proposed: only what the authority and the connected providers' capabilities allow."""

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.fakes import NOW, START, MemoryProvider, add_activity, import_fit, record
from tracekit.changes import PINNED, ChangeKind, Field, ProposedChange, activity_of
from tracekit.proposals import propose, propose_between
from tracekit.providers.base import Capability
from tracekit.providers.names import ProviderName
from tracekit.settings import Settings
from tracekit.store.engine import Database
from tracekit.store.models import (
    Activity,
    Gear,
    JournalEntry,
    Pin,
    ProviderGear,
    ProviderRecord,
    ReviewFlag,
    ReviewKind,
)

GARMIN = ProviderName.GARMIN
STRAVA = ProviderName.STRAVA
RWGPS = ProviderName.RIDEWITHGPS
ICU = ProviderName.INTERVALSICU
SHEET = ProviderName.SPREADSHEET
FILE = ProviderName.FILE

READ = frozenset({Capability.READ})
EDIT = frozenset({Capability.READ, Capability.RENAME, Capability.SET_DESCRIPTION})
EDIT_GEAR = EDIT | {Capability.SET_GEAR}
EVERYTHING = frozenset(Capability)


def _summary(changes: list[ProposedChange]) -> list[tuple[ChangeKind, ProviderName, object]]:
    return [(c.kind, c.provider, c.new_value) for c in changes]


def test_strava_receives_the_typed_name_but_never_gives_its_own(db: Database) -> None:
    # The original's table and change list disagreed here (F14); Strava only ever receives.
    with db.session() as session:
        activity = add_activity(
            session,
            record(STRAVA, "s1", name="My Strava title"),
            record(GARMIN, "g1", name="Col de Rates loop"),
        )
        changes = propose(session, [activity.id], Settings(), {STRAVA: EDIT, GARMIN: EDIT})
    assert len(changes) == 1
    rename = changes[0]
    assert (rename.kind, rename.provider, rename.field) == (ChangeKind.RENAME, STRAVA, Field.NAME)
    assert (rename.old_value, rename.new_value) == ("My Strava title", "Col de Rates loop")
    assert rename.source == GARMIN.value
    assert "Garmin Connect" in rename.reason and "My Strava title" in rename.reason
    assert activity_of(rename.id) == activity.id


def test_only_capable_connected_providers_get_renames_and_never_the_source(
    db: Database,
) -> None:
    with db.session() as session:
        activity = add_activity(
            session,
            record(RWGPS, "r1", name="Col de Rates loop"),
            record(GARMIN, "g1", name="Girona Cycling"),
            record(ICU, "i1", name="Lunch Ride"),
            record(STRAVA, "s1", name="Morning Ride"),
            record(SHEET, "row-7", name=None),
        )
        capabilities = {RWGPS: EDIT, GARMIN: EDIT, ICU: READ, STRAVA: EDIT}  # no spreadsheet
        changes = propose(session, [activity.id], Settings(), capabilities)
    assert _summary(changes) == [
        (ChangeKind.RENAME, GARMIN, "Col de Rates loop"),
        (ChangeKind.RENAME, STRAVA, "Col de Rates loop"),
    ]


def test_a_pinned_name_is_proposed_to_every_provider_including_the_old_source(
    db: Database,
) -> None:
    with db.session() as session:
        activity = add_activity(
            session,
            record(RWGPS, "r1", name="Col de Rates loop"),
            record(GARMIN, "g1", name="Girona Cycling"),
        )
        session.add(
            Pin(activity_id=activity.id, field="name", value="Rates with Anna", pinned_at=NOW)
        )
        session.flush()
        changes = propose(session, [activity.id], Settings(), {RWGPS: EDIT, GARMIN: EDIT})
    assert [(c.provider, c.new_value, c.source) for c in changes] == [
        (RWGPS, "Rates with Anna", PINNED),
        (GARMIN, "Rates with Anna", PINNED),
    ]


def test_nothing_is_proposed_when_every_name_is_a_default(db: Database) -> None:
    with db.session() as session:
        activity = add_activity(
            session,
            record(RWGPS, "r1", name="Morning Ride"),
            record(GARMIN, "g1", name="Girona Cycling"),
            record(STRAVA, "s1", name="Morning Ride"),
        )
        changes = propose(session, [activity.id], Settings(), {RWGPS: EDIT, GARMIN: EDIT})
    assert changes == []


def test_whitespace_differences_are_never_a_change(db: Database) -> None:
    with db.session() as session:
        activity = add_activity(
            session,
            record(RWGPS, "r1", name="Col de Rates loop", description="Windy.\nSecond line"),
            record(GARMIN, "g1", name=" Col de  Rates loop ", description="Windy.\r\nSecond line "),
            record(STRAVA, "s1", name="Col de Rates loop\t", description="Windy. Second line"),
        )
        changes = propose(session, [activity.id], Settings(), {GARMIN: EDIT, STRAVA: EDIT})
    assert changes == []


def test_description_only_goes_where_it_can_be_set(db: Database) -> None:
    with db.session() as session:
        activity = add_activity(
            session,
            record(RWGPS, "r1", description="Headwind all the way back"),
            record(GARMIN, "g1", description=""),
            record(ICU, "i1", description=None),
        )
        rename_only = frozenset({Capability.RENAME})
        changes = propose(session, [activity.id], Settings(), {GARMIN: EDIT, ICU: rename_only})
    assert [(c.kind, c.provider, c.old_value) for c in changes] == [
        (ChangeKind.SET_DESCRIPTION, GARMIN, ""),
    ]


def _gear(session: Session, name: str, *, retired: bool = False) -> Gear:
    gear = Gear(name=name, retired=retired)
    session.add(gear)
    session.flush()
    return gear


def _provider_gear(
    session: Session, provider: ProviderName, gear_id: str, name: str, gear: Gear | None = None
) -> None:
    session.add(
        ProviderGear(
            provider=provider,
            provider_gear_id=gear_id,
            name=name,
            gear_id=gear.id if gear is not None else None,
        )
    )
    session.flush()


def test_gear_is_matched_by_id_then_by_name_and_written_as_the_targets_own_id(
    db: Database,
) -> None:
    with db.session() as session:
        trek, canyon = _gear(session, "Trek Domane"), _gear(session, "Canyon Grail")
        _provider_gear(session, RWGPS, "r-trek", "Trek", trek)
        _provider_gear(session, GARMIN, "g-trek", "Domane", trek)
        _provider_gear(session, GARMIN, "g-canyon", "Grail", canyon)
        _provider_gear(session, STRAVA, "b123", "TREK domane")  # mapped by its name only
        activity = add_activity(
            session,
            record(RWGPS, "r1", gear_id="r-trek"),
            record(GARMIN, "g1", gear_id="g-canyon"),
            record(STRAVA, "s1", gear_id=None),
            record(ICU, "i1", gear_id=None),  # intervals.icu has no id for this bike
        )
        capabilities = {GARMIN: EDIT_GEAR, STRAVA: EDIT_GEAR, ICU: EDIT_GEAR}
        changes = propose(session, [activity.id], Settings(), capabilities)
    assert [(c.provider, c.old_value, c.new_value, c.target) for c in changes] == [
        (GARMIN, "Canyon Grail", "Trek Domane", "g-trek"),
        (STRAVA, None, "Trek Domane", "b123"),
    ]
    assert all(c.kind is ChangeKind.SET_GEAR and c.field is Field.GEAR for c in changes)


def test_retired_gear_is_found_by_name(db: Database) -> None:
    with db.session() as session:
        bianchi = _gear(session, "Old Bianchi", retired=True)
        _provider_gear(session, GARMIN, "g-old", "old  bianchi")
        activity = add_activity(
            session,
            record(SHEET, "row-1", gear_name="Old Bianchi"),
            record(GARMIN, "g1", gear_id=None),
        )
        changes = propose(session, [activity.id], Settings(), {GARMIN: EDIT_GEAR})
    assert [(c.provider, c.new_value, c.target) for c in changes] == [
        (GARMIN, bianchi.name, "g-old")
    ]


def test_no_equipment_on_both_sides_is_no_change(db: Database) -> None:
    # The original proposed "No Equipment" → "No Equipment" after every sync (F18).
    with db.session() as session:
        nothing = _gear(session, "No Equipment")
        _provider_gear(session, RWGPS, "0", "No Equipment", nothing)
        _provider_gear(session, GARMIN, "g-none", "No Equipment", nothing)
        _provider_gear(session, STRAVA, "b0", "No equipment")
        activity = add_activity(
            session,
            record(RWGPS, "r1", gear_id="0", gear_name="No Equipment"),
            record(GARMIN, "g1", gear_id="g-none"),
            record(SHEET, "row-1", gear_name="no equipment"),
            record(STRAVA, "s1", gear_id=None),
        )
        capabilities = {p: EDIT_GEAR for p in (RWGPS, GARMIN, SHEET, STRAVA)}
        assert propose(session, [activity.id], Settings(), capabilities) == []


def test_an_original_file_is_offered_to_connected_providers_that_take_uploads(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    file_record_id = import_fit(db, archive_dir, tmp_path / "in")
    with db.session() as session:
        original = session.get(ProviderRecord, file_record_id)
        assert original is not None and original.activity is not None
        garmin = record(GARMIN, "g1", name="Col de Rates loop", activity=original.activity)
        session.add(garmin)
        not_archived = add_activity(session, record(FILE, "abc", file_path=None))
        capabilities = {
            GARMIN: EVERYTHING,  # already has it
            STRAVA: EDIT | {Capability.UPLOAD},
            SHEET: EVERYTHING,  # a log row is never made by upload
            ICU: EDIT,  # cannot upload
        }
        ids = [original.activity.id, not_archived.id]
        changes = propose(session, ids, Settings(), capabilities)
        uploads = [c for c in changes if c.kind is ChangeKind.ADD_TO_PROVIDER and c.target]
        assert [(c.provider, c.target, c.new_value) for c in uploads] == [
            (STRAVA, original.file_path, "Col de Rates loop")
        ]
        # The log gets rows (an entry from the session's values), never an upload.
        entries = [
            c for c in changes if c.kind is ChangeKind.ADD_TO_PROVIDER and c.provider is SHEET
        ]
        assert all(c.target is None for c in entries)
        assert {(c.provider, c.activity_id) for c in entries} == {
            (SHEET, original.activity.id),
            (SHEET, not_archived.id),
        }
        assert uploads[0].record_id == file_record_id


def test_the_original_is_downloaded_from_a_source_when_the_archive_lacks_it(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    file_record_id = import_fit(db, archive_dir, tmp_path / "in", START + timedelta(days=1))
    with db.session() as session:
        garmin = record(GARMIN, "g1")
        from_garmin = add_activity(session, garmin)
        strava_only = add_activity(session, record(STRAVA, "s1"))
        archived = session.get(ProviderRecord, file_record_id)
        assert archived is not None and archived.activity_id is not None
        session.add(record(GARMIN, "g2", activity_id=archived.activity_id))
        session.flush()
        capabilities = {GARMIN: EVERYTHING, STRAVA: EVERYTHING}
        ids = [from_garmin.id, strava_only.id, archived.activity_id]
        downloads = [
            c
            for c in propose(session, ids, Settings(), capabilities)
            if c.kind is ChangeKind.DOWNLOAD_ORIGINAL
        ]
        assert [(c.activity_id, c.provider, c.target) for c in downloads] == [
            (from_garmin.id, GARMIN, str(garmin.id))
        ]


def test_ids_are_stable_across_runs_and_change_with_the_value(db: Database) -> None:
    capabilities = {GARMIN: EDIT, STRAVA: EDIT}
    with db.session() as session:
        first = add_activity(
            session,
            record(RWGPS, "r1", name="Col de Rates loop"),
            record(GARMIN, "g1", name="Girona Cycling"),
            record(STRAVA, "s1", name="Morning Ride"),
        )
        activity_id = first.id
    with db.session() as session:
        run_one = propose(session, [activity_id], Settings(), capabilities)
    with db.session() as session:
        run_two = propose(session, [activity_id], Settings(), capabilities)
        source = session.scalars(
            select(ProviderRecord).where(ProviderRecord.provider_id == "r1")
        ).one()
        source.name = "Col de Rates, twice"
        session.flush()
        run_three = propose(session, [activity_id], Settings(), capabilities)
    assert [c.id for c in run_one] == [c.id for c in run_two]
    assert len(run_one) == 2
    assert not {c.id for c in run_one} & {c.id for c in run_three}


def test_a_review_flag_becomes_one_link_proposal(db: Database) -> None:
    with db.session() as session:
        garmin = record(GARMIN, "g1", name="Col de Rates loop")
        strava = record(STRAVA, "s1", start_utc=START + timedelta(hours=1))
        apart = add_activity(session, garmin)
        other = add_activity(session, strava)
        message = "Starts 1 h apart: the same ride seen through two time zones?"
        session.add(
            ReviewFlag(
                kind=ReviewKind.TIMEZONE_CONFLICT,
                record_ids=[garmin.id, strava.id],
                message=message,
                created_at=NOW,
            )
        )
        session.flush()
        links = propose(session, [apart.id, other.id], Settings(), {})
        assert [(c.kind, c.activity_id, c.target, c.reason) for c in links] == [
            (ChangeKind.LINK, apart.id, f"{garmin.id},{strava.id}", message)
        ]
        # Once the records are together there is nothing left to link.
        strava.activity = apart
        session.flush()
        assert propose(session, [apart.id], Settings(), {}) == []


def _month(session: Session) -> None:
    for day in range(28):
        start = START.replace(day=1) + timedelta(days=day)
        add_activity(
            session,
            record(RWGPS, f"r{day}", start_utc=start, name=f"Ride number {day}"),
            record(GARMIN, f"g{day}", start_utc=start, name="Girona Cycling"),
            record(STRAVA, f"s{day}", start_utc=start, name="Morning Ride"),
        )


def test_reviewing_a_month_never_calls_a_provider(db: Database) -> None:
    providers = [
        MemoryProvider(GARMIN, EVERYTHING),
        MemoryProvider(STRAVA, EVERYTHING),
        MemoryProvider(RWGPS, EVERYTHING),
    ]
    with db.session() as session:
        _month(session)
        capabilities = {p.name: p.capabilities for p in providers}
        changes = propose_between(
            session, date(2026, 3, 1), date(2026, 3, 31), Settings(), capabilities
        )
        journaled = session.scalar(select(func.count()).select_from(JournalEntry))
    assert len(changes) == 28 * 3  # per day: renames on Garmin and Strava, one download
    assert all(p.calls == [] for p in providers)
    assert journaled == 0


def test_proposals_come_in_date_kind_provider_order(db: Database) -> None:
    with db.session() as session:
        _month(session)
        capabilities = {STRAVA: EVERYTHING, GARMIN: EVERYTHING}
        changes = propose_between(
            session, date(2026, 3, 2), date(2026, 3, 3), Settings(), capabilities
        )
        days = [session.get(Activity, c.activity_id) for c in changes]
    assert [d.local_date for d in days if d] == [date(2026, 3, 2)] * 3 + [date(2026, 3, 3)] * 3
    assert [(c.kind, c.provider) for c in changes] == 2 * [
        (ChangeKind.RENAME, GARMIN),
        (ChangeKind.RENAME, STRAVA),
        (ChangeKind.DOWNLOAD_ORIGINAL, GARMIN),
    ]
