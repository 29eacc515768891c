"""Importing files, folders and archives: values, duplicates, and hostile input."""

import gzip
import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.builders import gpx_bytes, write, zip_bytes
from tracekit.files.importer import FileImporter
from tracekit.files.sources import Budget
from tracekit.ingest import ingest_files
from tracekit.store.engine import Database
from tracekit.store.models import Activity, ProviderRecord

START = datetime(2026, 6, 14, 7, 30, tzinfo=UTC)


def _counts(db: Database) -> tuple[int, int]:
    with db.session() as session:
        records = session.scalar(select(func.count()).select_from(ProviderRecord)) or 0
        activities = session.scalar(select(func.count()).select_from(Activity)) or 0
    return records, activities


def _archived(archive_dir: Path) -> list[Path]:
    return sorted(p for p in archive_dir.rglob("*") if p.is_file() and ".incoming" not in p.parts)


def test_a_gpx_file_imports_with_its_values_and_its_original_bytes(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    data = gpx_bytes(START, name="Park loop")
    source = write(tmp_path / "in" / "park.gpx", data)
    report = FileImporter(db, archive_dir).run([source])
    assert not report.failed and len(report.imported) == 1
    item = report.imported[0]
    assert item.file == str(source)
    assert item.start_utc == START
    assert item.sport == "run"
    assert item.elapsed_s == pytest.approx(590)
    with db.session() as session:
        record = session.scalars(select(ProviderRecord)).one()
        assert record.name == "Park loop"
        assert record.timezone == "Europe/Madrid"
        assert record.start_local == datetime(2026, 6, 14, 9, 30)
        assert record.file_path is not None
        assert Path(record.file_path).read_bytes() == data
        assert Path(record.file_path).is_relative_to(archive_dir)


def test_the_same_file_twice_under_any_name_or_inside_a_zip_is_one_record(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    data = gpx_bytes(START)
    first = write(tmp_path / "a.gpx", data)
    renamed = write(tmp_path / "copy of a.gpx", data)
    zipped = write(tmp_path / "bundle.zip", zip_bytes({"inner/a.gpx": data}))
    gzipped = write(tmp_path / "a.gpx.gz", gzip.compress(data))
    importer = FileImporter(db, archive_dir)
    report = importer.run([first, renamed, zipped, gzipped])
    assert len(report.imported) == 1
    assert sorted(d.file for d in report.duplicates) == sorted(
        [str(renamed), f"{zipped}/inner/a.gpx", str(gzipped)]
    )
    assert {d.activity_id for d in report.duplicates} == {report.imported[0].activity_id}
    again = importer.run([first])
    assert again.duplicates and not again.imported
    assert _counts(db) == (1, 1)
    assert len(_archived(archive_dir)) == 1


def test_two_different_files_with_one_name_never_overwrite_each_other(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    one = write(tmp_path / "x" / "ride.gpx", gpx_bytes(START))
    two = write(tmp_path / "y" / "ride.gpx", gpx_bytes(START + timedelta(minutes=5)))
    report = FileImporter(db, archive_dir).run([one, two])
    assert len(report.imported) == 2
    stored = _archived(archive_dir)
    assert len(stored) == 2
    assert {p.read_bytes() for p in stored} == {one.read_bytes(), two.read_bytes()}


def test_nested_zips_and_folders_are_walked(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    inner = zip_bytes({"deep/run2.gpx": gpx_bytes(START + timedelta(days=1))})
    outer = zip_bytes({"run1.gpx": gpx_bytes(START), "more/inner.zip": inner, "notes.txt": b"x"})
    folder = tmp_path / "drop"
    write(folder / "sub" / "export.zip", outer)
    write(folder / "sub" / "sub2" / "run3.gpx", gpx_bytes(START + timedelta(days=2)))
    write(folder / "photo.jpg", b"\xff\xd8 not an activity")
    report = FileImporter(db, archive_dir).run([folder])
    assert not report.failed
    assert sorted(i.file for i in report.imported) == sorted(
        [
            f"{folder}/sub/export.zip/run1.gpx",
            f"{folder}/sub/export.zip/more/inner.zip/deep/run2.gpx",
            f"{folder}/sub/sub2/run3.gpx",
        ]
    )


def _xml_bomb() -> bytes:
    entities = ['<!ENTITY e0 "lol">'] + [
        f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 10)
    ]
    return (
        f'<?xml version="1.0"?><!DOCTYPE gpx [{"".join(entities)}]>'
        '<gpx xmlns="http://www.topografix.com/GPX/1/1"><trk><name>&e9;</name></trk></gpx>'
    ).encode()


def _zip_slip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../escaped.gpx", gpx_bytes(START))
        archive.writestr("/abs/escaped2.gpx", gpx_bytes(START))
    return buffer.getvalue()


def _nested(depth: int) -> bytes:
    data = zip_bytes({"bottom.gpx": gpx_bytes(START + timedelta(days=9))})
    for level in range(depth - 1):
        data = zip_bytes({f"level{level}.zip": data})
    return data


def _top_name(file: str, drop: Path) -> str:
    """The name of the dropped file a failure belongs to (an archive for its members)."""
    return file.removeprefix(f"{drop}/").split("/")[0]


def test_hostile_and_broken_input_is_reported_per_file_and_the_rest_imports(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    good = gpx_bytes(START)
    drop = tmp_path / "drop"
    files = {
        "good.gpx": good,
        "empty.fit": b"",
        "truncated.gpx": good[: len(good) // 2],
        "random.fit": bytes(range(256)) * 4,
        "bomb.gpx": _xml_bomb(),
        "slip.zip": _zip_slip(),
        "deep.zip": _nested(7),
        "broken.zip": b"PK\x03\x04 this is not really a zip",
        "damaged.gpx.gz": gzip.compress(gpx_bytes(START + timedelta(hours=3)))[:-30],
        "later.gpx": gpx_bytes(START + timedelta(days=1)),
    }
    for name, data in files.items():
        write(drop / name, data)
    report = FileImporter(db, archive_dir).run([drop])
    failed = {_top_name(f.file, drop): f.error for f in report.failed}
    assert sorted(Path(i.file).name for i in report.imported) == ["good.gpx", "later.gpx"]
    assert failed["empty.fit"] == "empty file"
    assert "XML" in failed["truncated.gpx"] or "truncated" in failed["truncated.gpx"]
    assert "not a FIT file" in failed["random.fit"]
    assert "entities" in failed["bomb.gpx"]
    assert "outside the archive" in failed["slip.zip"]
    assert "nested more than" in failed["deep.zip"]
    assert "not a readable zip" in failed["broken.zip"]
    assert "damaged compressed data" in failed["damaged.gpx.gz"]
    assert len([f for f in report.failed if "slip.zip" in f.file]) == 2
    # Nothing escaped the archive folder, and the store holds exactly the good files.
    assert not list(tmp_path.rglob("escaped*.gpx"))
    assert _counts(db) == (2, 2)
    assert len(_archived(archive_dir)) == 2
    assert not list((archive_dir / ".incoming").rglob("*"))


def test_a_zip_bomb_is_refused_by_its_declared_size(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("huge.gpx", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(300):
                member.write(block)
        archive.writestr("ok.gpx", gpx_bytes(START))
    bomb = write(tmp_path / "bomb.zip", buffer.getvalue())
    assert bomb.stat().st_size < 2 << 20
    report = FileImporter(db, archive_dir).run([bomb])
    assert [i.file for i in report.imported] == [f"{bomb}/ok.gpx"]
    assert report.failed[0].file == f"{bomb}/huge.gpx"
    assert "zip bomb" in report.failed[0].error


def test_a_gzip_bomb_is_stopped_while_streaming(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    bomb = write(tmp_path / "bomb.gpx.gz", gzip.compress(b" " * (8 << 20)))
    importer = FileImporter(db, archive_dir, Budget(max_file_bytes=4 << 20))
    report = importer.run([bomb])
    assert report.failed[0].file == str(bomb)
    assert "larger than 4 MiB" in report.failed[0].error
    assert not list((archive_dir / ".incoming").rglob("*"))


def test_many_files_import_in_parallel_and_all_arrive(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "many"
    for i in range(24):
        write(folder / f"run{i:02d}.gpx", gpx_bytes(START + timedelta(hours=i * 5)))
    write(folder / "zz-broken.gpx", b"<gpx")
    report = FileImporter(db, archive_dir).run([folder], workers=2)
    assert len(report.imported) == 24
    assert [f.file for f in report.failed] == [str(folder / "zz-broken.gpx")]
    assert _counts(db) == (24, 24)


def test_cancel_stops_the_import_and_keeps_what_was_stored_whole(
    db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "many"
    for i in range(30):
        write(folder / f"run{i:02d}.gpx", gpx_bytes(START + timedelta(hours=i * 5)))
    seen: list[int] = []
    report = FileImporter(db, archive_dir).run(
        [folder],
        progress=lambda done, total, _name: seen.append(done),
        cancelled=lambda: len(seen) >= 5,
        workers=2,
    )
    assert report.cancelled
    assert len(report.imported) == 5
    assert _counts(db) == (5, 5)
    assert len(_archived(archive_dir)) == 5
    assert not list((archive_dir / ".incoming").rglob("*"))


def test_the_whole_sample_corpus_imports_or_fails_file_by_file(
    db: Database, archive_dir: Path, samples: Path
) -> None:
    files = sorted(p for p in samples.rglob("*") if p.is_file() and p.name != "SOURCES.md")
    report = ingest_files(db, archive_dir, [samples])
    handled = {i.file for i in report.imported} | {d.file for d in report.duplicates}
    handled |= {f.file for f in report.failed}
    assert handled == {str(p) for p in files}
    assert all(f.error and "\n" not in f.error for f in report.failed)
    # The same ride as FIT, GPX and TCX: three records, three different files.
    same_ride = [i for i in report.imported if "4801048867" in i.file]
    assert len(same_ride) == 3
    starts = sorted(i.start_utc for i in same_ride)
    assert starts[-1] - starts[0] < timedelta(minutes=1)
    with db.session() as session:
        stored = session.scalar(select(func.count()).select_from(ProviderRecord))
        linked = {
            session.get(ProviderRecord, item.record_id).activity_id  # type: ignore[union-attr]
            for item in same_ride
        }
    assert stored == len(report.imported)
    assert len(linked) == 1, "the matcher links the three files of one ride into one session"
