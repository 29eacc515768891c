"""Account exports: Strava bulk exports and Garmin "Export your data" archives."""

import io
import json
import shutil
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.builders import gpx_bytes, write, zip_bytes
from tracekit.exports import ExportKind, detect_export, import_export_archive
from tracekit.exports.archive import ExportReport
from tracekit.exports.writers import (
    ExportActivity,
    activity_file,
    garmin_summary,
    write_garmin_export,
    write_strava_export,
)
from tracekit.files.sources import Budget
from tracekit.linking import rematch
from tracekit.providers.names import ProviderName
from tracekit.sports import Sport
from tracekit.store.engine import Database
from tracekit.store.models import ProviderGear, ProviderRecord

START = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)


def rides(count: int, first_id: int = 10_000_000_001) -> list[ExportActivity]:
    return [
        ExportActivity(
            activity_id=first_id + i,
            start_utc=START + timedelta(days=i, minutes=7 * i),
            sport="running" if i % 3 == 2 else "cycling",
            distance_m=20_000 + 1_000 * i,
            elapsed_s=3_000 + 60 * i,
            name=f"Session {i}",
            gear="Trek Domane" if i % 3 != 2 else "Nike Pegasus",
        )
        for i in range(count)
    ]


def records(db: Database, provider: ProviderName) -> dict[str, ProviderRecord]:
    with db.session() as session:
        found = session.scalars(select(ProviderRecord).where(ProviderRecord.provider == provider))
        return {r.provider_id: r for r in found}


def count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(ProviderRecord)) or 0


def imported(db: Database, archive_dir: Path, path: Path, **kwargs: object) -> ExportReport:
    report = import_export_archive(db, archive_dir, path, **kwargs)  # type: ignore[arg-type]
    assert report is not None
    return report


# ------------------------------------------------------------------------------------ Strava


def test_a_strava_export_gives_strava_records_gear_and_linked_original_files(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    sessions = rides(4)
    sessions.append(
        ExportActivity(10_000_000_099, START + timedelta(days=9), name="Gym", file_format=None)
    )
    sessions.append(
        ExportActivity(10_000_000_100, START + timedelta(days=10), name="Phone", file_format="gpx")
    )
    path = write_strava_export(
        tmp_path / "export_123.zip", sessions, bikes=["Trek Domane"], shoes=["Nike Pegasus"]
    )
    assert detect_export(path) == (ExportKind.STRAVA, "")
    report = imported(db, archive_dir, path)
    assert (report.records_created, report.gear_created) == (6, 2)
    assert len(report.files.imported) == 5 and not report.files.failed and not report.failed
    assert report.files_linked == 5
    strava = records(db, ProviderName.STRAVA)
    assert sorted(strava) == [str(s.activity_id) for s in sessions]
    first = strava["10000000001"]
    assert first.start_utc == START and first.timezone is None
    assert first.name == "Session 0" and first.sport is Sport.RIDE
    assert first.distance_m == 20_000  # the metres column, not the km one
    assert first.elapsed_s == 3000 and first.moving_s == 2940
    assert first.gear_name == "Trek Domane"
    assert records(db, ProviderName.STRAVA)["10000000003"].sport is Sport.RUN
    with db.session() as session:
        gear = {(g.name, g.kind) for g in session.scalars(select(ProviderGear))}
    assert gear == {("Trek Domane", "bike"), ("Nike Pegasus", "shoes")}
    files = {r.start_utc: r for r in records(db, ProviderName.FILE).values()}
    assert first.evidence == [f"sha256:{files[START].checksum}"]
    assert strava["10000000099"].evidence is None  # a manual entry has no file
    rematch(db)
    linked = records(db, ProviderName.STRAVA)
    files = {r.start_utc: r for r in records(db, ProviderName.FILE).values()}
    for session_ in sessions:
        if session_.file_format is None:
            continue
        record = linked[str(session_.activity_id)]
        assert record.activity_id == files[session_.start_utc].activity_id
        assert record.link_explanation is not None
        assert record.link_explanation["reason"] == "evidence"


def test_importing_the_same_export_again_imports_nothing_twice(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    path = write_strava_export(tmp_path / "export.zip", rides(3), bikes=["Trek Domane"])
    imported(db, archive_dir, path)
    before = count(db)
    again = imported(db, archive_dir, path)
    assert (again.records_created, again.records_updated, again.records_unchanged) == (0, 0, 3)
    assert not again.files.imported and len(again.files.duplicates) == 3
    assert again.gear_created == 0 and again.files_linked == 3
    assert count(db) == before == 6
    archived = [p for p in archive_dir.rglob("*") if p.is_file() and ".incoming" not in p.parts]
    assert len(archived) == 3
    assert not list((archive_dir / ".incoming").rglob("*"))


def test_an_interrupted_import_continues_where_it_stopped(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    path = write_strava_export(tmp_path / "export.zip", rides(12))
    seen: list[int] = []
    first = imported(
        db,
        archive_dir,
        path,
        progress=lambda done, total, _name: seen.append(done),
        cancelled=lambda: len(seen) >= 4,
        workers=1,
    )
    assert first.cancelled and 0 < len(first.files.imported) < 12
    rest = imported(db, archive_dir, path, workers=2)
    assert not rest.cancelled
    assert len(first.files.imported) + len(rest.files.imported) == 12
    assert len(rest.files.duplicates) == len(first.files.imported)
    assert rest.files_linked == 12
    assert len(records(db, ProviderName.FILE)) == 12
    assert all(r.evidence for r in records(db, ProviderName.STRAVA).values())


def test_an_export_fills_in_but_never_overwrites_what_the_api_synced(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    with db.session() as session:
        session.add(
            ProviderRecord(
                provider=ProviderName.STRAVA,
                provider_id="10000000001",
                start_utc=START,
                sport=Sport.RIDE,
                name="Renamed on Strava since",
                payload={"source": "api"},
                fetched_at=START,
                changed_at=START,
            )
        )
    imported(db, archive_dir, write_strava_export(tmp_path / "export.zip", rides(1)))
    (record,) = records(db, ProviderName.STRAVA).values()
    assert record.name == "Renamed on Strava since"
    assert record.distance_m == 20_000  # was empty: filled in
    assert record.evidence is not None and record.evidence[0].startswith("sha256:")


def test_rows_and_members_that_cannot_be_read_are_reported_and_the_rest_imports(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.gpx", b"\0" * (3 << 20))
    path = write_strava_export(
        tmp_path / "export.zip",
        rides(3),
        extra_members={
            "../escaped.fit": activity_file(rides(1)[0]),
            "activities/nested.zip": bomb.getvalue(),
            "activities/broken.fit": b"not a fit file at all",
        },
    )
    with zipfile.ZipFile(path, "a") as archive:  # a row whose date Tracekit cannot read
        csv_text = archive.read("activities.csv").decode() + "777,someday,x,Run\n"
    rebuilt = tmp_path / "export2.zip"
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(rebuilt, "w") as new:
        for info in old.infolist():
            data = csv_text.encode() if info.filename == "activities.csv" else old.read(info)
            new.writestr(info, data)
    report = imported(db, archive_dir, rebuilt, budget=Budget(max_file_bytes=2 << 20))
    failed = {f.file.rsplit("/", 1)[-1]: f.error for f in report.files.failed}
    assert "outside the archive" in failed["escaped.fit"]
    assert "zip bomb" in failed["big.gpx"]
    assert "not a FIT file" in failed["broken.fit"]
    assert [f.error for f in report.failed] == ["'someday' is not a date"]
    assert report.records_created == 3 and len(report.files.imported) == 3
    assert not list(tmp_path.rglob("escaped*"))


# ------------------------------------------------------------------------------------ Garmin


def test_a_garmin_export_gives_garmin_records_and_skips_non_activity_fit_files(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    sessions = rides(5, first_id=14_000_000_001)
    path = write_garmin_export(tmp_path / "garmin.zip", sessions, non_activity=20, per_part=10)
    assert detect_export(path) == (ExportKind.GARMIN, "")
    seen: list[tuple[int, int]] = []
    report = imported(db, archive_dir, path, progress=lambda d, t, _n: seen.append((d, t)))
    assert report.records_created == 5
    assert len(report.files.imported) == 5 and not report.files.failed and not report.failed
    assert report.skipped_count == 20 and report.skipped["monitoring_b"] == 4
    assert report.files_linked == 5 and not report.unmatched_files
    assert seen[-1] == (25, 25)
    garmin = records(db, ProviderName.GARMIN)
    first = garmin["14000000001"]
    assert first.start_utc == START
    assert first.start_local == datetime(2024, 5, 1, 8, 0)
    assert first.timezone == "Europe/Madrid"
    assert first.distance_m == 20_000 and first.elapsed_s == 3000 and first.moving_s == 2940
    assert first.sport is Sport.RIDE and first.raw_type == "road_biking"
    rematch(db)
    files = {r.start_utc: r for r in records(db, ProviderName.FILE).values()}
    for record in records(db, ProviderName.GARMIN).values():
        assert record.activity_id == files[record.start_utc].activity_id
        assert record.evidence == [f"sha256:{files[record.start_utc].checksum}"]


def test_garmin_files_without_an_id_in_their_name_are_matched_by_start_time(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    named, unnamed, crowded = rides(3, first_id=14_000_000_001)
    twin = ExportActivity(14_000_000_009, crowded.start_utc + timedelta(seconds=30))
    summaries = [named, unnamed, crowded, twin]
    uploads = zip_bytes(
        {
            "2024-05-02-06-07-00.fit": activity_file(unnamed),  # a device's own name
            "crowded.fit": activity_file(crowded),  # two summaries within a minute
        }
    )
    path = write_garmin_export(
        tmp_path / "garmin.zip",
        [named],
        extra_members={"DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part9.zip": uploads},
    )
    # The summaries list all four activities.
    with zipfile.ZipFile(path) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    summary_name = next(n for n in members if n.endswith("summarizedActivities.json"))
    members[summary_name] = json.dumps(
        [{"summarizedActivitiesExport": [garmin_summary(a) for a in summaries]}]
    ).encode()
    rebuilt = write(tmp_path / "garmin2.zip", zip_bytes(members))
    report = imported(db, archive_dir, rebuilt)
    assert len(report.files.imported) == 3
    assert report.files_linked == 2
    assert [Path(u).name for u in report.unmatched_files] == ["crowded.fit"]
    garmin = records(db, ProviderName.GARMIN)
    assert garmin[str(named.activity_id)].evidence
    assert garmin[str(unnamed.activity_id)].evidence
    assert garmin[str(crowded.activity_id)].evidence is None


def test_an_unpacked_export_folder_imports_like_the_zip(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    path = write_garmin_export(tmp_path / "garmin.zip", rides(2), non_activity=3)
    folder = tmp_path / "unpacked"
    shutil.unpack_archive(path, folder / "my export")
    assert detect_export(folder) == (ExportKind.GARMIN, "my export/")
    report = imported(db, archive_dir, folder)
    assert (report.records_created, len(report.files.imported), report.skipped_count) == (2, 2, 3)
    assert report.files_linked == 2


def test_a_zip_that_is_not_an_account_export_is_left_to_the_file_import(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    plain = write(tmp_path / "rides.zip", zip_bytes({"a.gpx": gpx_bytes(START)}))
    fake = write(
        tmp_path / "other.zip", zip_bytes({"activities.csv": b"Date,Distance\n2024-05-01,10\n"})
    )
    assert import_export_archive(db, archive_dir, plain) is None
    assert import_export_archive(db, archive_dir, fake) is None
    assert import_export_archive(db, archive_dir, write(tmp_path / "a.gpx", b"<gpx/>")) is None
    assert count(db) == 0


def test_the_report_reads_as_json(db: Database, archive_dir: Path, tmp_path: Path) -> None:
    path = write_garmin_export(tmp_path / "garmin.zip", rides(1), non_activity=2)
    data = imported(db, archive_dir, path).as_json()
    assert data["provider"] == "garmin"
    assert data["records"] == {"created": 1, "updated": 0, "unchanged": 0}
    assert sum(data["skipped_non_activity"].values()) == 2
    assert data["files"]["imported"][0]["file"].endswith("athlete@example.com_10000000001.fit")


@pytest.mark.parametrize("kind", ["strava", "garmin"])
def test_progress_counts_every_file_once(
    db: Database, archive_dir: Path, tmp_path: Path, kind: str
) -> None:
    sessions = rides(9)
    path = (
        write_strava_export(tmp_path / "e.zip", sessions)
        if kind == "strava"
        else write_garmin_export(tmp_path / "e.zip", sessions, non_activity=4, per_part=5)
    )
    seen: list[int] = []
    totals: set[int] = set()

    def progress(done: int, total: int, _name: str) -> None:
        seen.append(done)
        totals.add(total)

    imported(db, archive_dir, path, progress=progress, workers=2)
    expected = 9 if kind == "strava" else 13
    assert totals == {expected} and sorted(seen) == list(range(1, expected + 1))
