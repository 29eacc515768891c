"""The window's units of work: plain functions that run on worker threads, free of Qt.

Each takes what it needs (the `Database`, values) and a `TaskContext`-like object, opens its own
session, calls `tracekit`, and returns frozen values for the GUI thread to present. This module
is imported lazily by the window (it pulls in SQLAlchemy), so the window paints first.
"""

import contextlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from tracekit.calendar import MonthView, Totals, YearMonth, latest_month, month_view
from tracekit.changes import Field
from tracekit.providers.names import ProviderName
from tracekit.settings import Settings, load_settings, save_settings
from tracekit.stats import (
    ActivityDetail,
    GearReport,
    Grouping,
    LinkCandidate,
    MonthGrid,
    NotificationItem,
    Period,
    PeriodStats,
    ProviderRow,
    activity_detail,
    gear_report,
    link_candidates,
    month_grid,
    newest_activity,
    notifications,
    period_stats,
    provider_overview,
    year_totals,
    years_with_data,
)
from tracekit.store.engine import Database
from tracekit.store.models import Activity


class Progress(Protocol):
    def progress(self, done: int, total: int, text: str = "") -> None: ...

    def cancelled(self) -> bool: ...


# ---------------------------------------------------------------------------------------------
# Opening


@dataclass(frozen=True, slots=True)
class Opened:
    db: Database
    settings: Settings
    latest: YearMonth | None
    empty: bool
    created_demo: bool
    location: str


def _sqlite_path(url: str) -> Path | None:
    prefix = "sqlite:///"
    if url.startswith(prefix) and ":memory:" not in url and url != prefix:
        return Path(url.removeprefix(prefix))
    return None


def open_store(
    url: str, archive_dir: Path, ctx: Progress, *, demo: bool = False, demo_months: int = 12
) -> Opened:
    """Open (and migrate) the database; for the demo, build it first if it does not exist.

    The demo is built in a side file and renamed into place, so an interrupted first start
    never leaves a half-filled demo behind.
    """
    created = False
    path = _sqlite_path(url)
    if demo and path is not None and not path.exists():
        ctx.progress(0, 1, "Creating the demo database…")
        build_demo_file(path, archive_dir, months=demo_months)
        created = True
    db = Database(url)
    time_zones()  # warm the cache off the GUI thread
    with db.session() as session:
        settings = load_settings(session)
        latest = latest_month(session)
    return Opened(
        db=db,
        settings=settings,
        latest=latest,
        empty=latest is None,
        created_demo=created,
        location=str(path) if path else url,
    )


def build_demo_file(path: Path, archive_dir: Path, *, months: int, seed: int = 7) -> None:
    from tracekit.demo import build_demo  # only needed once
    from tracekit.paths import sqlite_url

    partial = path.with_name(path.name + ".partial")
    for stale in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        stale.unlink(missing_ok=True)
    db = Database(sqlite_url(partial))
    try:
        build_demo(db, archive_dir, months=months, seed=seed)
        with db.engine.connect() as connection:  # fold the WAL into the file before renaming
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.dispose()
    for leftover in (Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    partial.replace(path)


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True, slots=True)
class MonthData:
    month: YearMonth
    view: MonthView
    grid: MonthGrid
    year: Totals


def load_month(db: Database, year: int, month: int, first_weekday: int) -> MonthData:
    wanted = YearMonth(year, month)
    with db.session() as session:
        view = month_view(session, wanted)
        totals = year_totals(session, year)
    return MonthData(wanted, view, month_grid(view, first_weekday), totals)


def load_detail(db: Database, activity_id: int, settings: Settings) -> ActivityDetail | None:
    with db.session() as session:
        return activity_detail(session, activity_id, settings)


@dataclass(frozen=True, slots=True)
class Overview:
    providers: tuple[ProviderRow, ...]
    notifications: tuple[NotificationItem, ...]
    activities: int


def load_overview(db: Database) -> Overview:
    from sqlalchemy import func, select

    with db.session() as session:
        count = session.scalar(select(func.count()).select_from(Activity)) or 0
        return Overview(provider_overview(session), notifications(session, limit=50), count)


@dataclass(frozen=True, slots=True)
class StatsData:
    years: tuple[int, ...]
    year: int
    periods: PeriodStats
    gear: GearReport


def load_stats(
    db: Database,
    year: int | None,
    period: Period,
    grouping: Grouping,
    first_weekday: int,
    settings: Settings,
) -> StatsData:
    with db.session() as session:
        years = years_with_data(session)
        chosen = year if year is not None else (years[-1] if years else date.today().year)
        return StatsData(
            years=years,
            year=chosen,
            periods=period_stats(session, chosen, period, grouping, first_weekday),
            gear=gear_report(session, settings, chosen),
        )


def load_link_candidates(db: Database, activity_id: int) -> tuple[LinkCandidate, ...]:
    with db.session() as session:
        return link_candidates(session, activity_id)


# ---------------------------------------------------------------------------------------------
# Writing


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    imported: int
    duplicates: int
    failed: tuple[tuple[str, str], ...]
    imported_files: tuple[str, ...]
    duplicate_files: tuple[str, ...]
    cancelled: bool
    newest: tuple[int, date] | None


def import_paths(
    db: Database, archive_dir: Path, paths: Sequence[Path], ctx: Progress
) -> ImportOutcome:
    """Import files, folders and zips, then link what arrived (`tracekit.ingest`).

    One core is left to the window: the decoding processes number one less than the cores.
    """
    workers = max(1, (os.cpu_count() or 2) - 1)
    try:
        from tracekit.ingest import ingest_files
    except ImportError:  # an older tree: import without matching
        from tracekit.files.importer import FileImporter

        report = FileImporter(db, archive_dir).run(paths, ctx.progress, ctx.cancelled, workers)
    else:
        report = ingest_files(db, archive_dir, paths, ctx.progress, ctx.cancelled, workers)
    activity_ids = [item.activity_id for item in report.imported]
    with db.session() as session:
        # Matching may have moved a new record onto an existing activity: look the ids up again.
        from sqlalchemy import select

        from tracekit.store.models import ProviderRecord

        record_ids = [item.record_id for item in report.imported]
        if record_ids:
            activity_ids = [
                a
                for a in session.scalars(
                    select(ProviderRecord.activity_id).where(ProviderRecord.id.in_(record_ids))
                )
                if a is not None
            ]
        newest = newest_activity(session, activity_ids)
    return ImportOutcome(
        imported=len(report.imported),
        duplicates=len(report.duplicates),
        failed=tuple((f.file, f.error) for f in report.failed),
        imported_files=tuple(sorted({i.file for i in report.imported})),
        duplicate_files=tuple(sorted({i.file for i in report.duplicates})),
        cancelled=report.cancelled,
        newest=newest,
    )


# ---------------------------------------------------------------------------------------------
# Heavy work in a child process
#
# Importing thousands of files and matching them is CPU-bound Python that reads thousands of
# rows: sqlite's fetch loops release and re-take the GIL per row, and in a worker *thread* that
# starved the GUI thread for 100+ ms at a time (a GIL convoy). In a child process the GUI
# keeps its interpreter to itself; the QRunnable only relays progress, cancel and the result.


class _ChildProgress:
    def __init__(self, conn: Any, cancel: Any) -> None:
        self.conn = conn
        self.cancel = cancel
        self._last = 0.0

    def progress(self, done: int, total: int, text: str = "") -> None:
        now = time.monotonic()
        if done >= total or now - self._last >= 0.05:
            self._last = now
            self.conn.send(("progress", done, total, text))

    def cancelled(self) -> bool:
        return bool(self.cancel.is_set())


def _child_main(target: str, args: tuple[Any, ...], conn: Any, cancel: Any) -> None:
    """Runs in the child: `target(*args, ctx)`, its result or error sent back over `conn`."""
    if hasattr(os, "nice"):
        # Background work: when the CPU is short, the window (and the user) go first. The
        # importer's worker processes inherit this.
        with contextlib.suppress(OSError):
            os.nice(10)
    try:
        fn = globals()[target]
        conn.send(("result", fn(*args, _ChildProgress(conn, cancel))))
    except BaseException as error:  # reported to the window, never lost
        conn.send(("error", str(error) or type(error).__name__))
    finally:
        conn.close()


def _context() -> Any:
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        # Qt-free: the server preloads Tracekit once, later children start in milliseconds.
        context.set_forkserver_preload(["ui.backend"])
        return context
    return multiprocessing.get_context("spawn")


def in_child_process(target: str, args: tuple[Any, ...], ctx: Progress) -> Any:
    """Run the module function `target(*args, ctx)` in a child process, relaying progress and
    the cancel flag; its result is returned, its error raised here as a RuntimeError."""
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    cancel = context.Event()
    child = context.Process(
        target=_child_main, args=(target, args, sender, cancel), name=f"tracekit-{target}"
    )
    child.start()
    sender.close()
    try:
        while True:
            if ctx.cancelled():
                cancel.set()
            if receiver.poll(0.05):
                try:
                    message = receiver.recv()
                except EOFError:
                    child.join()
                    raise RuntimeError(
                        f"the {target.replace('_', ' ')} process stopped unexpectedly "
                        f"(exit code {child.exitcode})"
                    ) from None
                kind = message[0]
                if kind == "progress":
                    ctx.progress(*message[1:])
                elif kind == "result":
                    return message[1]
                else:
                    raise RuntimeError(message[1])
            elif not child.is_alive() and not receiver.poll():
                raise RuntimeError(
                    f"the {target.replace('_', ' ')} process stopped unexpectedly "
                    f"(exit code {child.exitcode})"
                )
    finally:
        receiver.close()
        child.join(timeout=30)


def import_in_process(
    url: str, archive_dir: Path, paths: Sequence[Path], ctx: Progress
) -> ImportOutcome:
    """`import_paths` in a child process (see above): the window's way to import."""
    result: ImportOutcome = in_child_process("_import_child", (url, archive_dir, list(paths)), ctx)
    return result


def _import_child(url: str, archive_dir: Path, paths: list[Path], ctx: Progress) -> ImportOutcome:
    db = Database(url)
    try:
        return import_paths(db, archive_dir, paths, ctx)
    finally:
        db.dispose()


def store_settings(db: Database, settings: Settings) -> Settings:
    with db.session() as session:
        save_settings(session, settings)
    with db.session() as session:
        return load_settings(session)


def unlink_record(db: Database, record_id: int) -> None:
    from tracekit.linking import decide
    from tracekit.store.models import MatchDecisionKind

    decide(db, MatchDecisionKind.ALONE, [record_id])


def link_records(db: Database, record_ids: Sequence[int]) -> None:
    from tracekit.linking import decide
    from tracekit.store.models import MatchDecisionKind

    decide(db, MatchDecisionKind.LINK, list(record_ids))


# ---------------------------------------------------------------------------------------------
# Providers: connections, sync, review, apply, journal


@dataclass(frozen=True, slots=True)
class Connections:
    """The connected providers (ready to call) and, when there are none, why."""

    providers: Mapping[ProviderName, Any]
    problem: str | None = None

    @property
    def capabilities(self) -> dict[ProviderName, frozenset[Any]]:
        return {name: frozenset(p.capabilities) for name, p in self.providers.items()}

    def close(self) -> None:
        for provider in self.providers.values():
            close = getattr(provider, "close", None)
            if callable(close):
                close()


def connections(db: Database) -> Connections:
    """Providers built from the stored connections and the keyring (`tracekit.providers`)."""
    from tracekit.credentials import Credentials, CredentialStoreUnavailable
    from tracekit.providers.registry import connected_providers

    try:
        providers = connected_providers(db, Credentials())
    except CredentialStoreUnavailable as error:
        return Connections({}, str(error))
    if not providers:
        return Connections({}, "No provider is connected: connect one in Settings")
    return Connections(providers)


type ConnectionsFactory = Callable[[Database], Connections]


@dataclass(frozen=True, slots=True)
class SyncLine:
    provider: ProviderName
    new: int
    updated: int
    stopped: str | None
    message: str | None


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    lines: tuple[SyncLine, ...]
    problem: str | None
    rematched: bool
    proposals: int | None = None  # changes proposed for the last 90 days, after the sync


def sync_now(
    db: Database,
    factory: "ConnectionsFactory",
    wanted: Sequence[ProviderName] | None,
    ctx: Progress,
    settings: Settings | None = None,
) -> SyncOutcome:
    """Pull the wanted (default: all connected) providers, then link what changed; with
    `settings`, also count the proposals afterwards (for the tray's notification)."""
    from sqlalchemy import select

    from tracekit.linking import rematch_around
    from tracekit.store.models import ProviderRecord
    from tracekit.sync import sync_provider

    found = factory(db)
    try:
        chosen = [
            (name, provider)
            for name, provider in found.providers.items()
            if wanted is None or name in wanted
        ]
        if not chosen:
            return SyncOutcome((), found.problem or "Nothing to sync", False)
        changed: list[int] = []
        lines = []
        for position, (name, provider) in enumerate(chosen):
            if ctx.cancelled():
                break
            ctx.progress(position, len(chosen), f"{name.label}: syncing…")

            def step(
                count: int, text: str, position: int = position, label: str = name.label
            ) -> None:
                ctx.progress(position, len(chosen), f"{label}: {text or f'{count} activities'}")

            report = sync_provider(
                db,
                provider,
                progress=step,
                cancelled=ctx.cancelled,
                on_records_changed=changed.extend,
            )
            lines.append(
                SyncLine(
                    name,
                    report.new,
                    report.updated,
                    report.stopped.value if report.stopped else None,
                    report.message,
                )
            )
        ctx.progress(len(chosen), len(chosen), "Linking new activities…")
        rematched = False
        if changed:
            with db.session() as session:
                rows = session.execute(
                    select(ProviderRecord.start_utc, ProviderRecord.start_local).where(
                        ProviderRecord.id.in_(changed)
                    )
                ).all()
            instants: list[datetime] = []
            for utc, local in rows:
                if utc is not None:
                    instants.append(utc)
                elif local is not None:
                    instants.append(
                        local.replace(tzinfo=UTC)
                    )  # a date-only record's local midnight stands in for its day
            rematched = rematch_around(db, instants) is not None
        proposals = proposal_count(db, settings, found.capabilities) if settings else None
        return SyncOutcome(tuple(lines), None, rematched, proposals)
    finally:
        found.close()


@dataclass(frozen=True, slots=True)
class ReviewScope:
    """What the diff dialog reviews: a date range, or chosen activities."""

    label: str
    start: date | None = None
    end: date | None = None
    activity_ids: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class ReviewData:
    scope: ReviewScope
    entries: tuple[Any, ...]  # tracekit.review.ReviewEntry, only those with changes
    connected: tuple[ProviderName, ...]
    problem: str | None
    dismissed: tuple[Any, ...]  # tracekit.review.ReviewEntry, only those with dismissed changes


def load_review(
    db: Database, scope: ReviewScope, settings: Settings, factory: "ConnectionsFactory"
) -> ReviewData:
    """The proposals of the scope, grouped by activity with each provider's record beside."""
    from sqlalchemy import func, select

    from tracekit.review import build_review

    found = factory(db)
    try:
        with db.session() as session:
            start, end = scope.start, scope.end
            if scope.activity_ids is not None:
                start, end = session.execute(
                    select(func.min(Activity.local_date), func.max(Activity.local_date)).where(
                        Activity.id.in_(scope.activity_ids)
                    )
                ).one()
            if start is None or end is None:
                entries = []
            else:
                entries = build_review(session, start, end, settings, found.capabilities)
        if scope.activity_ids is not None:
            wanted = set(scope.activity_ids)
            entries = [e for e in entries if e.activity_id in wanted]
        return ReviewData(
            scope=scope,
            entries=tuple(e for e in entries if e.changes),
            connected=tuple(found.providers),
            problem=found.problem,
            dismissed=tuple(e for e in entries if e.dismissed),
        )
    finally:
        found.close()


def apply_changes(
    db: Database,
    change_ids: Sequence[str],
    settings: Settings,
    factory: "ConnectionsFactory",
    ctx: Progress,
) -> list[Any]:
    """Apply exactly these approved change ids (`tracekit.apply`); one outcome per id."""
    from tracekit.apply import apply

    found = factory(db)
    try:
        return apply(db, list(change_ids), found.providers, settings, ctx.progress, ctx.cancelled)
    finally:
        found.close()


def dismiss_changes(
    db: Database, change_ids: Sequence[str], settings: Settings, factory: "ConnectionsFactory"
) -> list[Any]:
    """Leave these changes out of every review (`tracekit.dismissals`); the dismissed
    ProposedChanges. The connections only say what is proposed now: nothing is sent."""
    from tracekit.dismissals import dismiss

    found = factory(db)
    try:
        return list(dismiss(db, change_ids, settings, found.capabilities))
    finally:
        found.close()


def restore_changes(db: Database, change_ids: Sequence[str]) -> list[str]:
    """Propose these dismissed changes again; the ids that were dismissed."""
    from tracekit.dismissals import restore

    return restore(db, change_ids)


def load_journal(db: Database, limit: int = 300) -> list[Any]:
    from tracekit.journal import journal_entries

    with db.session() as session:
        return journal_entries(session, limit)


def undo_entry(
    db: Database, journal_id: int, settings: Settings, factory: "ConnectionsFactory"
) -> Any:
    from tracekit.journal import undo

    found = factory(db)
    try:
        return undo(db, journal_id, found.providers, settings)
    finally:
        found.close()


def _browser_opened_by_window(_url: str) -> bool:
    """The OAuth flow's opener: the window opens the consent page itself, on the GUI thread,
    when it receives the address through `on_url`."""
    return True


def connect_intervalsicu(db: Database, api_key: str, athlete_id: str) -> str:
    """Check the key with intervals.icu and keep it in the keyring; the message to show."""
    from tracekit.credentials import Credentials
    from tracekit.providers import registry

    return registry.connect_intervalsicu(
        db, Credentials(), api_key=api_key, athlete_id=athlete_id
    ).message


def connect_in_browser(
    db: Database,
    provider: ProviderName,
    client_id: str,
    client_secret: str,
    on_url: Callable[[str], None],
    ctx: Progress,
) -> str:
    """Authorise the user's own API application (Strava, RideWithGPS) on the provider's consent
    page, whose address goes to `on_url`; cancellable while waiting for the browser."""
    from tracekit.credentials import Credentials
    from tracekit.providers import registry

    connect = {
        ProviderName.STRAVA: registry.connect_strava,
        ProviderName.RIDEWITHGPS: registry.connect_ridewithgps_oauth,
    }[provider]
    return connect(
        db,
        Credentials(),
        client_id=client_id,
        client_secret=client_secret,
        opener=_browser_opened_by_window,
        on_url=on_url,
        cancelled=ctx.cancelled,
    ).message


def connect_ridewithgps_account(db: Database, api_key: str, email: str, password: str) -> str:
    """Trade the account's password for an auth token (the password is not kept)."""
    from tracekit.credentials import Credentials
    from tracekit.providers import registry

    return registry.connect_ridewithgps(
        db, Credentials(), api_key=api_key, email=email, password=password
    ).message


@dataclass(frozen=True, slots=True)
class GarminStep:
    """Where a Garmin sign-in stands: connected (`challenge` None), or waiting for the code
    Garmin sent (`challenge` to hand to `garmin_finish`; `message` says why)."""

    message: str
    challenge: Any = None

    @property
    def connected(self) -> bool:
        return self.challenge is None


def garmin_start(
    db: Database, email: str, password: str, factory: Callable[..., Any] | None = None
) -> GarminStep:
    """Sign in to Garmin Connect (tens of seconds); `factory` stands in for the library."""
    from tracekit.credentials import Credentials
    from tracekit.garmin_login import GarminConnected, start_login

    result = start_login(db, Credentials(), email, password, factory=factory)
    if isinstance(result, GarminConnected):
        return GarminStep(result.message)
    return GarminStep(result.message, result)


def garmin_finish(challenge: Any, code: str) -> GarminStep:
    """Send the verification code; a refused code keeps the challenge for another try."""
    from tracekit.garmin_login import GarminMfaCodeRefused, finish_login

    try:
        return GarminStep(finish_login(challenge, code).message)
    except GarminMfaCodeRefused as refused:
        return GarminStep(str(refused), challenge)


def disconnect_provider(db: Database, provider: ProviderName) -> str:
    from tracekit.credentials import Credentials
    from tracekit.providers import registry

    return registry.disconnect(db, Credentials(), provider).message


def proposal_count(
    db: Database, settings: Settings, capabilities: Mapping[ProviderName, Any], days: int = 90
) -> int | None:
    """How many changes are proposed for the last `days` (None without connections)."""
    from tracekit.proposals import propose_between

    if not capabilities:
        return None
    today = date.today()
    with db.session() as session:
        return len(
            propose_between(
                session,
                today - timedelta(days=days),
                today + timedelta(days=1),
                settings,
                capabilities,
            )
        )


def pin_value(db: Database, activity_id: int, field: Field, value: str) -> None:
    from tracekit.pins import pin_value as pin

    pin(db, activity_id, field, value)


@cache
def time_zones() -> tuple[str, ...]:
    """IANA zone names for the home time zone picker (read once, on a worker at start-up)."""
    import zoneinfo

    return tuple(
        sorted(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith("Etc/"))
    )
