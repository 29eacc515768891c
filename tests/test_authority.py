"""Which value is the true one: pins, priority, write-only providers, default names, gear."""

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from tests.fakes import NOW, add_activity, record
from tracekit.authority import Authority, apply_authority, authoritative, load_pins
from tracekit.changes import PINNED, Field
from tracekit.default_names import is_default_name
from tracekit.gear_index import GearIndex
from tracekit.providers.names import ProviderName
from tracekit.settings import Settings
from tracekit.sports import Sport
from tracekit.store.engine import Database
from tracekit.store.models import Activity, Gear, Pin, ProviderGear, ProviderRecord

GARMIN = ProviderName.GARMIN
STRAVA = ProviderName.STRAVA
RWGPS = ProviderName.RIDEWITHGPS
ICU = ProviderName.INTERVALSICU
SHEET = ProviderName.SPREADSHEET
FILE = ProviderName.FILE


def _authority(session: Session, activity: Activity, settings: Settings | None = None) -> Authority:
    pins = load_pins(session, [activity.id]).get(activity.id, [])
    return authoritative(activity.records, pins, settings or Settings(), GearIndex.load(session))


def _pin(session: Session, activity: Activity, field: Field, value: object) -> None:
    session.add(Pin(activity_id=activity.id, field=field.value, value=value, pinned_at=NOW))
    session.flush()


def test_the_provider_priority_decides_between_typed_names(db: Database) -> None:
    with db.session() as session:
        activity = add_activity(
            session,
            record(GARMIN, "g1", name="Garmin's name"),
            record(ICU, "i1", name="Name from intervals"),
            record(RWGPS, "r1", name="Col de Rates loop"),
        )
        chosen = _authority(session, activity).name
        assert chosen is not None
        assert (chosen.value, chosen.source) == ("Col de Rates loop", RWGPS.value)

        garmin_first = Settings(provider_priority=(GARMIN, RWGPS, ICU))
        chosen = _authority(session, activity, garmin_first).name
        assert chosen is not None and chosen.value == "Garmin's name"


def test_a_pinned_value_beats_every_provider(db: Database) -> None:
    with db.session() as session:
        activity = add_activity(
            session,
            record(RWGPS, "r1", name="Col de Rates loop", description="Windy"),
            record(GARMIN, "g1", name="Garmin's name"),
        )
        _pin(session, activity, Field.NAME, "Rates with Anna")
        _pin(session, activity, Field.SPORT, Sport.GRAVEL_RIDE.value)
        authority = _authority(session, activity)
        assert authority.name is not None
        assert (authority.name.value, authority.name.source) == ("Rates with Anna", PINNED)
        assert authority.name.record_id is None
        assert authority.sport is not None and authority.sport.value == "gravel_ride"
        # Fields that are not pinned still come from the providers.
        assert authority.description is not None and authority.description.value == "Windy"


def test_a_pinned_empty_name_means_no_name_at_all(db: Database) -> None:
    with db.session() as session:
        activity = add_activity(session, record(RWGPS, "r1", name="Col de Rates loop"))
        _pin(session, activity, Field.NAME, "")
        assert _authority(session, activity).name is None


def test_strava_is_never_a_source_even_when_it_ranks_first(db: Database) -> None:
    strava_first = Settings(provider_priority=(STRAVA, GARMIN))
    with db.session() as session:
        activity = add_activity(
            session,
            record(STRAVA, "s1", name="Typed on Strava", description="Strava words"),
            record(GARMIN, "g1", name="Typed on Garmin"),
        )
        authority = _authority(session, activity, strava_first)
        assert authority.name is not None and authority.name.source == GARMIN.value
        assert authority.description is None

        only_strava = add_activity(session, record(STRAVA, "s2", name="Typed on Strava"))
        assert _authority(session, only_strava, strava_first).name is None


STRAVA_DEFAULTS = [
    "Morning Ride",
    "Afternoon Run",
    "Evening Weight Training",
    "Lunch Swim",
    "Night Walk",
    "Morning Virtual Ride",
    "Evening E-Bike Ride",
    "Afternoon Mountain Bike Ride",
    "Morning Activity",
]
GARMIN_DEFAULTS = [
    "Girona Cycling",
    "New York Running",
    "Sant Feliu de Guíxols Cycling",
    "Road Cycling",
    "Indoor Cycling",
    "Pool Swim",
    "Strength",
    "Treadmill Running",
    "Boulder - Trail Running",
]
OTHER_DEFAULTS = ["Evening Ride", "Lunch Ride", "Saturday Morning Ride", "Ride", "Track 001"]
FILE_DEFAULTS = [None, "", "   ", "2026-03-08 07:30:00", "activity_1234567.fit"]
TYPED = [
    "Zwift - Watopia",
    "Zwift - Tempo Mondays in Makuri Islands",
    "Long Run",
    "Morning Ride with Anna",
    "Col de Rates repeats",
    "Easy spin",
    "10k race",
    "girona cycling with the club",
]


@pytest.mark.parametrize(
    "name", [*STRAVA_DEFAULTS, *GARMIN_DEFAULTS, *OTHER_DEFAULTS, *FILE_DEFAULTS]
)
def test_generated_names_are_recognised(name: str | None) -> None:
    assert is_default_name(name)


@pytest.mark.parametrize("name", TYPED)
def test_typed_names_including_zwift_routes_are_not_defaults(name: str) -> None:
    assert not is_default_name(name)


@pytest.mark.parametrize(
    ("provider", "default"),
    [(RWGPS, n) for n in ["Morning Ride", "Afternoon Ride", "Night Ride"]]
    + [(GARMIN, n) for n in ["Girona Cycling", "Indoor Cycling", "Treadmill Running"]]
    + [(ICU, n) for n in ["Lunch Ride", "Evening Run"]]
    + [(SHEET, n) for n in ["", "  "]]
    + [(FILE, None)],
)
def test_a_default_name_never_beats_a_typed_one(
    db: Database, provider: ProviderName, default: str | None
) -> None:
    typed_provider = GARMIN if provider is not GARMIN else FILE
    settings = Settings(provider_priority=(provider, typed_provider))
    with db.session() as session:
        activity = add_activity(
            session,
            record(provider, "default", name=default),
            record(typed_provider, "typed", name="Zwift - Watopia"),
        )
        chosen = _authority(session, activity, settings).name
        assert chosen is not None
        assert (chosen.value, chosen.source) == ("Zwift - Watopia", typed_provider.value)


def test_when_every_name_is_a_default_there_is_no_authoritative_name(db: Database) -> None:
    with db.session() as session:
        activity = add_activity(
            session,
            record(RWGPS, "r1", name="Morning Ride"),
            record(GARMIN, "g1", name="Girona Cycling"),
            record(FILE, "f1", name=None),
        )
        assert _authority(session, activity).name is None


def test_whitespace_is_normalised_and_an_empty_description_is_none(db: Database) -> None:
    with db.session() as session:
        activity = add_activity(
            session,
            record(RWGPS, "r1", name="  Col  de Rates\tloop ", description=" \n  "),
            record(GARMIN, "g1", description="Windy.  \r\nSecond line\n"),
        )
        authority = _authority(session, activity)
        assert authority.name is not None and authority.name.value == "Col de Rates loop"
        assert authority.description is not None
        assert authority.description.value == "Windy.\nSecond line"
        assert authority.description.source == GARMIN.value


def _gear(session: Session, name: str, retired: bool = False) -> Gear:
    gear = Gear(name=name, retired=retired)
    session.add(gear)
    session.flush()
    return gear


def _provider_gear(
    session: Session, provider: ProviderName, gear_id: str, name: str, gear: Gear | None
) -> None:
    session.add(
        ProviderGear(
            provider=provider,
            provider_gear_id=gear_id,
            name=name,
            gear_id=gear.id if gear else None,
        )
    )
    session.flush()


def test_gear_maps_across_providers_by_id_then_by_name_including_retired(db: Database) -> None:
    with db.session() as session:
        trek = _gear(session, "Trek Domane SL6", retired=True)
        _provider_gear(session, RWGPS, "254097", "My Trek", trek)
        _provider_gear(session, STRAVA, "b777", "trek domane sl-6", None)
        index = GearIndex.load(session)

        by_id = index.resolve(RWGPS, "254097", None)
        by_name = index.resolve(SHEET, None, "TREK  Domane SL6")
        by_provider_name = index.resolve(GARMIN, None, "my trek")
        assert by_id is not None and by_id.gear_id == trek.id
        assert by_name == by_id
        assert by_provider_name == by_id
        # What Strava calls it, for writing: its own gear of the same name.
        assert index.provider_gear_id(by_id, STRAVA) == "b777"
        assert index.provider_gear_id(by_id, GARMIN) is None


@pytest.mark.parametrize("nothing", ["No Equipment", "none", "", "  no  equipment "])
def test_no_equipment_is_no_gear(db: Database, nothing: str) -> None:
    with db.session() as session:
        activity = add_activity(
            session,
            record(RWGPS, "r1", gear_name=nothing),
            record(GARMIN, "g1", gear_id="none"),
        )
        assert _authority(session, activity).gear is None


def test_gear_comes_from_the_first_source_that_names_some(db: Database) -> None:
    with db.session() as session:
        trek = _gear(session, "Trek Domane")
        _provider_gear(session, GARMIN, "g-1", "Trek", trek)
        activity = add_activity(
            session,
            record(SHEET, "row-1", name="Rates loop", gear_name="No Equipment"),
            record(GARMIN, "g1", gear_id="g-1"),
        )
        gear = _authority(session, activity).gear
        assert gear is not None
        assert (gear.display, gear.source) == ("Trek Domane", GARMIN.value)


def test_the_sport_is_the_most_specific_compatible_one(db: Database) -> None:
    with db.session() as session:
        activity = add_activity(
            session,
            record(RWGPS, "r1", sport=Sport.RIDE),
            record(GARMIN, "g1", sport=Sport.GRAVEL_RIDE),
            record(FILE, "f1", sport=Sport.RUN),
        )
        sport = _authority(session, activity).sport
        assert sport is not None and (sport.value, sport.source) == ("gravel_ride", GARMIN.value)


def test_the_calendar_shows_the_authoritative_name_and_sport(db: Database) -> None:
    now = datetime(2026, 3, 21, tzinfo=UTC)
    with db.session() as session:
        records = [
            record(GARMIN, "g1", name="Girona Cycling", sport=Sport.GRAVEL_RIDE),
            record(ICU, "i1", name="Col de Rates loop", sport=Sport.RIDE),
        ]
        activity = add_activity(session, *records)
        assert activity.name == "Girona Cycling"  # what the store's first-value rule picked
        apply_authority(activity, records, [], Settings(), GearIndex.load(session), now)
        assert (activity.name, activity.sport) == ("Col de Rates loop", Sport.GRAVEL_RIDE)
        assert activity.updated_at == now


def test_the_calendar_still_shows_a_name_when_none_is_authoritative(db: Database) -> None:
    with db.session() as session:
        strava_only: list[ProviderRecord] = [
            record(STRAVA, "s1", name="Morning Ride", sport=Sport.RIDE)
        ]
        activity = add_activity(session, *strava_only)
        authority = apply_authority(
            activity, strava_only, [], Settings(), GearIndex.load(session), NOW
        )
        assert authority.name is None and authority.sport is None
        assert (activity.name, activity.sport) == ("Morning Ride", Sport.RIDE)
