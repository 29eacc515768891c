"""Applying approved changes: exactly what was approved is sent, journaled, read back, undoable."""

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from tests.fakes import (
    NOW,
    START,
    Call,
    MemoryProvider,
    add_activity,
    import_fit,
    record,
    remote,
)
from tracekit.apply import CANCELLED, STALE, ApplyOutcome, OutcomeStatus, apply
from tracekit.changes import ChangeKind, ProposedChange
from tracekit.journal import journal_entries, undo
from tracekit.proposals import propose, unlink_changes
from tracekit.providers.base import Capability, Provider, ProviderError, RemoteActivity
from tracekit.providers.names import ProviderName
from tracekit.settings import Settings
from tracekit.store.engine import Database
from tracekit.store.models import (
    Activity,
    Gear,
    JournalEntry,
    JournalState,
    LinkOrigin,
    MatchDecision,
    MatchDecisionKind,
    ProviderGear,
    ProviderRecord,
    ReviewFlag,
    ReviewKind,
)

GARMIN = ProviderName.GARMIN
STRAVA = ProviderName.STRAVA
RWGPS = ProviderName.RIDEWITHGPS
FILE = ProviderName.FILE
EVERYTHING = frozenset(Capability)
DONE, FAILED, SKIPPED = OutcomeStatus.DONE, OutcomeStatus.FAILED, OutcomeStatus.SKIPPED
TYPED = "Col de Rates loop"


def _providers(*fakes: MemoryProvider) -> dict[ProviderName, Provider]:
    return {fake.name: fake for fake in fakes}


def _proposals(db: Database, providers: dict[ProviderName, Provider]) -> list[ProposedChange]:
    capabilities = {name: p.capabilities for name, p in providers.items()}
    with db.session() as session:
        ids = list(session.scalars(select(Activity.id)))
        return propose(session, ids, Settings(), capabilities)


def _renames(db: Database) -> tuple[MemoryProvider, MemoryProvider, int]:
    """A ride named by RideWithGPS, with Garmin's and Strava's default names still on it."""
    edit = {Capability.READ, Capability.RENAME}
    with db.session() as session:
        garmin = record(GARMIN, "g1", name="Girona Cycling")
        strava = record(STRAVA, "s1", name="Morning Ride")
        activity = add_activity(session, record(RWGPS, "r1", name=TYPED), garmin, strava)
        return (
            MemoryProvider(GARMIN, edit, {"g1": remote(garmin)}),
            MemoryProvider(STRAVA, edit, {"s1": remote(strava)}),
            activity.id,
        )


def _journal(db: Database) -> list[JournalEntry]:
    with db.session() as session:
        return list(session.scalars(select(JournalEntry).order_by(JournalEntry.id)))


def _record(db: Database, provider: ProviderName, provider_id: str) -> ProviderRecord:
    with db.session() as session:
        return session.scalars(
            select(ProviderRecord).where(
                ProviderRecord.provider == provider, ProviderRecord.provider_id == provider_id
            )
        ).one()


def test_approving_two_changes_sends_exactly_two_writes_journaled_first(db: Database) -> None:
    garmin, strava, _ = _renames(db)
    providers = _providers(garmin, strava)
    states_at_write: list[list[JournalState]] = []

    def look_at_journal(_call: Call) -> None:  # what another connection sees mid-write
        states_at_write.append([e.state for e in _journal(db)])

    garmin.before_write = strava.before_write = look_at_journal
    changes = _proposals(db, providers)
    outcomes = apply(db, [c.id for c in changes], providers, Settings())

    assert [o.status for o in outcomes] == [DONE, DONE]
    assert garmin.writes == [Call("rename", ("g1", TYPED))]
    assert strava.writes == [Call("rename", ("s1", TYPED))]
    assert states_at_write == [[JournalState.PENDING], [JournalState.DONE, JournalState.PENDING]]
    journal = _journal(db)
    assert [(e.provider, e.kind, e.old_value, e.new_value, e.state) for e in journal] == [
        (GARMIN, "rename", "Girona Cycling", TYPED, JournalState.DONE),
        (STRAVA, "rename", "Morning Ride", TYPED, JournalState.DONE),
    ]
    assert all(e.finished_at is not None for e in journal)
    assert [o.journal_id for o in outcomes] == [e.id for e in journal]
    # Read back from the provider: the store now holds the new names, nothing is left to do.
    assert _record(db, GARMIN, "g1").name == TYPED
    assert Call("fetch", ("g1",)) in garmin.calls
    assert _proposals(db, providers) == []


def test_a_provider_failure_is_reported_and_the_next_change_still_applies(db: Database) -> None:
    garmin, strava, _ = _renames(db)
    providers = _providers(garmin, strava)
    garmin.fail_next("rename", ProviderError(GARMIN, "activity 1 is locked"))
    changes = _proposals(db, providers)

    outcomes = apply(db, [c.id for c in changes], providers, Settings())

    assert [(o.status, o.message) for o in outcomes] == [
        (FAILED, "Garmin Connect: activity 1 is locked"),
        (DONE, "renamed on Strava"),
    ]
    assert [(e.state, e.message) for e in _journal(db)] == [
        (JournalState.FAILED, "Garmin Connect: activity 1 is locked"),
        (JournalState.DONE, "renamed on Strava"),
    ]
    assert _record(db, GARMIN, "g1").name == "Girona Cycling"
    assert [c.id for c in _proposals(db, providers)] == [changes[0].id]  # still to do


def test_an_unexpected_error_is_a_failure_too(db: Database) -> None:
    garmin, strava, _ = _renames(db)
    providers = _providers(garmin, strava)
    strava.fail_next("rename", RuntimeError("connection reset"))

    outcomes = apply(db, [c.id for c in _proposals(db, providers)], providers, Settings())

    assert [o.status for o in outcomes] == [DONE, FAILED]
    assert outcomes[1].message == "RuntimeError: connection reset"
    assert _journal(db)[1].state is JournalState.FAILED


def test_a_stale_change_is_skipped_and_nothing_is_sent(db: Database) -> None:
    garmin, strava, _ = _renames(db)
    providers = _providers(garmin, strava)
    changes = _proposals(db, providers)
    with db.session() as session:  # a sync brought a new name from RideWithGPS meanwhile
        source = session.scalars(
            select(ProviderRecord).where(ProviderRecord.provider_id == "r1")
        ).one()
        source.name = "Rates, twice"

    outcomes = apply(db, [c.id for c in changes] + ["not-a-change"], providers, Settings())

    assert [(o.status, o.message) for o in outcomes[:2]] == [(SKIPPED, STALE)] * 2
    assert outcomes[2].status is SKIPPED
    assert garmin.calls == [] and strava.calls == []
    assert _journal(db) == []


def test_cancelling_skips_the_rest_of_the_batch(db: Database) -> None:
    garmin, strava, _ = _renames(db)
    providers = _providers(garmin, strava)
    progress: list[tuple[int, int, str]] = []
    changes = _proposals(db, providers)

    outcomes = apply(
        db,
        [c.id for c in changes],
        providers,
        Settings(),
        progress=lambda done, total, message: progress.append((done, total, message)),
        cancelled=lambda: len(progress) >= 1,
    )

    assert outcomes == [
        ApplyOutcome(changes[0].id, DONE, "renamed on Garmin Connect", _journal(db)[0].id),
        ApplyOutcome(changes[1].id, SKIPPED, CANCELLED),
    ]
    assert progress == [(1, 2, "renamed on Garmin Connect")]
    assert len(garmin.writes) + len(strava.writes) == 1


def _with_file(db: Database, archive_dir: Path, folder: Path) -> int:
    """An activity with its archived FIT file and a typed name from RideWithGPS."""
    file_record_id = import_fit(db, archive_dir, folder)
    with db.session() as session:
        original = session.get(ProviderRecord, file_record_id)
        assert original is not None and original.activity_id is not None
        session.add(record(RWGPS, "r-file", name=TYPED, activity_id=original.activity_id))
        return original.activity_id


def test_an_upload_links_the_new_activity_it_created(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    activity_id = _with_file(db, archive_dir, tmp_path / "in")
    strava = MemoryProvider(STRAVA, {Capability.UPLOAD})
    providers = _providers(strava)
    (change,) = _proposals(db, providers)

    (outcome,) = apply(db, [change.id], providers, Settings())

    assert (outcome.status, outcome.message) == (DONE, "uploaded to Strava as strava-upload-1")
    assert [(c.method, c.args[1:]) for c in strava.writes] == [
        ("upload", (TYPED, f"tracekit-{activity_id}"))
    ]
    uploaded = _record(db, STRAVA, "strava-upload-1")
    assert (uploaded.activity_id, uploaded.link_origin) == (activity_id, LinkOrigin.USER)
    assert _proposals(db, providers) == []


def test_uploading_what_the_provider_already_has_links_it_instead(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    activity_id = _with_file(db, archive_dir, tmp_path / "in")
    existing = RemoteActivity(provider_id="987", start_utc=START, sport=record(STRAVA, "x").sport)
    strava = MemoryProvider(STRAVA, {Capability.UPLOAD}, {"987": existing})
    providers = _providers(strava)
    (change,) = _proposals(db, providers)

    (outcome,) = apply(db, [change.id], providers, Settings())

    assert outcome.status is DONE
    assert outcome.message == "Strava already had this activity (987); linked it"
    assert list(strava.activities) == ["987"]
    assert _record(db, STRAVA, "987").activity_id == activity_id
    assert _journal(db)[0].state is JournalState.DONE


def test_downloading_an_original_archives_it_and_links_it(db: Database, archive_dir: Path) -> None:
    with db.session() as session:
        garmin = record(GARMIN, "g1", name=TYPED)
        activity_id = add_activity(session, garmin).id
    fake = MemoryProvider(GARMIN, {Capability.DOWNLOAD_ORIGINAL}, {"g1": remote(garmin)})
    providers = _providers(fake)
    (change,) = _proposals(db, providers)
    assert change.kind is ChangeKind.DOWNLOAD_ORIGINAL

    (outcome,) = apply(db, [change.id], providers, Settings())

    assert outcome.status is DONE and outcome.message.startswith("downloaded from Garmin Connect")
    with db.session() as session:
        activity = session.get(Activity, activity_id)
        assert activity is not None
        files = [r for r in activity.records if r.provider is FILE]
        assert len(files) == 1 and files[0].file_path is not None
        assert Path(files[0].file_path).is_file()
        assert archive_dir in Path(files[0].file_path).parents
        assert files[0].start_utc == START
        assert session.scalar(select(func.count()).select_from(Activity)) == 1
    assert fake.writes == []
    assert _proposals(db, providers) == []


def test_undoing_a_rename_writes_the_old_name_back(db: Database) -> None:
    garmin, strava, _ = _renames(db)
    providers = _providers(garmin, strava)
    (rename, _) = _proposals(db, providers)
    (applied,) = apply(db, [rename.id], providers, Settings())
    assert applied.journal_id is not None

    outcome = undo(db, applied.journal_id, providers, Settings())

    assert outcome.status is DONE
    assert garmin.writes == [
        Call("rename", ("g1", TYPED)),
        Call("rename", ("g1", "Girona Cycling")),
    ]
    assert garmin.activities["g1"].name == "Girona Cycling"
    assert _record(db, GARMIN, "g1").name == "Girona Cycling"
    with db.session() as session:
        lines = journal_entries(session)
    assert [(line.id, line.state, line.undoes_id) for line in lines] == [
        (outcome.journal_id, JournalState.DONE, applied.journal_id),
        (applied.journal_id, JournalState.UNDONE, None),
    ]
    assert (lines[0].old_value, lines[0].new_value) == (TYPED, "Girona Cycling")
    assert not lines[1].undoable

    again = undo(db, applied.journal_id, providers, Settings())
    assert (again.status, again.message) == (SKIPPED, "it was already undone")
    assert len(garmin.writes) == 2


def test_undo_is_refused_when_the_value_changed_on_the_provider_since(db: Database) -> None:
    garmin, strava, _ = _renames(db)
    providers = _providers(garmin, strava)
    (rename, _) = _proposals(db, providers)
    (applied,) = apply(db, [rename.id], providers, Settings())
    assert applied.journal_id is not None
    garmin.activities["g1"] = replace(garmin.activities["g1"], name="Edited on the watch")

    outcome = undo(db, applied.journal_id, providers, Settings())

    assert (outcome.status, outcome.message) == (
        SKIPPED,
        "changed on Garmin Connect since; not undoing",
    )
    assert garmin.writes == [Call("rename", ("g1", TYPED))]
    assert [e.state for e in _journal(db)] == [JournalState.DONE]


def test_a_gear_change_writes_the_targets_gear_id_and_undo_restores_the_old_one(
    db: Database,
) -> None:
    with db.session() as session:
        trek, canyon = Gear(name="Trek Domane"), Gear(name="Canyon Grail")
        session.add_all([trek, canyon])
        session.flush()
        session.add_all(
            ProviderGear(provider=p, provider_gear_id=i, name=n, gear_id=g.id)
            for p, i, n, g in [
                (RWGPS, "r-trek", "Trek", trek),
                (GARMIN, "g-trek", "Domane", trek),
                (GARMIN, "g-canyon", "Grail", canyon),
            ]
        )
        garmin = record(GARMIN, "g1", gear_id="g-canyon", gear_name="Grail")
        add_activity(session, record(RWGPS, "r1", gear_id="r-trek"), garmin)
    fake = MemoryProvider(GARMIN, {Capability.SET_GEAR}, {"g1": remote(garmin)})
    providers = _providers(fake)
    (change,) = _proposals(db, providers)
    assert (change.old_value, change.new_value) == ("Canyon Grail", "Trek Domane")

    (applied,) = apply(db, [change.id], providers, Settings())
    assert applied.status is DONE and applied.journal_id is not None
    assert _record(db, GARMIN, "g1").gear_name == "Domane"
    undone = undo(db, applied.journal_id, providers, Settings())

    assert undone.status is DONE
    assert fake.writes == [Call("set_gear", ("g1", "g-trek")), Call("set_gear", ("g1", "g-canyon"))]
    with db.session() as session:
        lines = journal_entries(session)
    assert [(line.old_value, line.new_value) for line in lines] == [
        ("Trek Domane", "Canyon Grail"),
        ("Canyon Grail", "Trek Domane"),
    ]


def test_uploads_and_failed_changes_cannot_be_undone(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    _with_file(db, archive_dir, tmp_path / "in")
    strava = MemoryProvider(STRAVA, {Capability.UPLOAD, Capability.RENAME})
    providers = _providers(strava)
    (upload,) = _proposals(db, providers)
    (uploaded,) = apply(db, [upload.id], providers, Settings())
    assert uploaded.journal_id is not None

    refused = undo(db, uploaded.journal_id, providers, Settings())
    assert refused.status is SKIPPED and refused.message.startswith("an upload cannot be undone")

    garmin, strava_names, _ = _renames(db)
    renames = _providers(garmin, strava_names)
    garmin.fail_next("rename", ProviderError(GARMIN, "down for maintenance"))
    failed = apply(db, [c.id for c in _proposals(db, renames)][:1], renames, Settings())
    assert failed[0].status is FAILED and failed[0].journal_id is not None
    refused = undo(db, failed[0].journal_id, renames, Settings())
    assert (refused.status, refused.message) == (SKIPPED, "it failed, so nothing was changed")
    assert len(strava.writes) == 1 and len(garmin.writes) == 1


def test_linking_a_flagged_pair_moves_the_records_and_remembers_the_decision(
    db: Database,
) -> None:
    with db.session() as session:
        garmin = record(GARMIN, "g1", name=TYPED)
        strava = record(STRAVA, "s1", start_utc=START + timedelta(hours=1), name="Morning Ride")
        kept = add_activity(session, garmin)
        add_activity(session, strava)
        session.add(
            ReviewFlag(
                kind=ReviewKind.TIMEZONE_CONFLICT,
                record_ids=[garmin.id, strava.id],
                message="the same ride an hour apart?",
                created_at=NOW,
            )
        )
    (link,) = _proposals(db, {})

    (outcome,) = apply(db, [link.id], {}, Settings())

    assert outcome.status is DONE
    with db.session() as session:
        activities = list(session.scalars(select(Activity)))
        assert [a.id for a in activities] == [kept.id]
        assert {r.provider for r in activities[0].records} == {GARMIN, STRAVA}
        assert activities[0].name == TYPED
        decisions = list(session.scalars(select(MatchDecision)))
        assert [(d.kind, d.record_id, d.other_record_id) for d in decisions] == [
            (MatchDecisionKind.LINK, garmin.id, strava.id)
        ]
        assert session.scalar(select(func.count()).select_from(ReviewFlag)) == 0
    assert [(e.kind, e.provider, e.state) for e in _journal(db)] == [
        ("link", GARMIN, JournalState.DONE)
    ]


def test_unlinking_gives_the_record_an_activity_of_its_own(db: Database) -> None:
    with db.session() as session:
        strava = record(STRAVA, "s1", name="Morning Ride")
        together = add_activity(session, record(GARMIN, "g1", name=TYPED), strava)
        unlink = next(c for c in unlink_changes(session, together.id) if c.record_id == strava.id)

    (outcome,) = apply(db, [unlink.id], {}, Settings())

    assert outcome.status is DONE
    moved = _record(db, STRAVA, "s1")
    assert moved.activity_id != together.id and moved.link_origin is LinkOrigin.USER
    with db.session() as session:
        alone = session.get(Activity, moved.activity_id)
        assert alone is not None and alone.name == "Morning Ride"
        decision = session.scalars(select(MatchDecision)).one()
        assert (decision.kind, decision.record_id) == (MatchDecisionKind.ALONE, strava.id)
    assert _journal(db)[0].kind == "unlink"
    again = apply(db, [unlink.id], {}, Settings())
    assert again[0].status is SKIPPED  # it is no longer in that activity
