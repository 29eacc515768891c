"""Telling a name a provider generated from a name a person typed.

Providers name every activity they receive: Strava "Morning Ride", Garmin "Girona Cycling" or
"Indoor Cycling", RideWithGPS and intervals.icu the same shapes. Such a name says nothing the
user chose, so it must never beat a typed name from a lower-priority provider (the original
pushed "Morning Ride" over "Epic gravel loop" because RideWithGPS ranked higher).

The test is by shape, not by provider: a Strava-style default that reached Garmin through an
upload is still a default. A name is generated when every word is a time of day, a weekday, a
sport word or a number/date, or when it is a place followed by one of Garmin's activity types.
Anything else, including Zwift's world and route names ("Zwift - Watopia"), is typed.
"""

import re

_TIMES_OF_DAY = frozenset({"morning", "lunch", "midday", "afternoon", "evening", "night"})
_WEEKDAYS = frozenset(
    {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
)
# The words of Strava's sport types and Garmin's activity types, lower case.
_SPORT_WORDS = frozenset(
    {
        "activity",
        "alpine",
        "backcountry",
        "badminton",
        "bike",
        "biking",
        "breathwork",
        "canoe",
        "canoeing",
        "cardio",
        "classic",
        "climb",
        "climbing",
        "country",
        "cross",
        "crossfit",
        "cycling",
        "e-bike",
        "e-biking",
        "e-mountain",
        "elliptical",
        "golf",
        "gravel",
        "handcycle",
        "hiit",
        "hike",
        "hiking",
        "ice",
        "indoor",
        "inline",
        "kayaking",
        "kitesurf",
        "mountain",
        "multisport",
        "nordic",
        "open",
        "paddleboarding",
        "paddling",
        "pickleball",
        "pilates",
        "pool",
        "racquetball",
        "resort",
        "ride",
        "road",
        "rock",
        "roller",
        "row",
        "rowing",
        "run",
        "running",
        "sail",
        "skate",
        "skateboard",
        "ski",
        "skiing",
        "snowboard",
        "snowboarding",
        "snowshoe",
        "soccer",
        "squash",
        "stair-stepper",
        "stand",
        "strength",
        "surfing",
        "swim",
        "swimming",
        "table",
        "tennis",
        "track",
        "trail",
        "training",
        "treadmill",
        "triathlon",
        "up",
        "velomobile",
        "virtual",
        "walk",
        "walking",
        "water",
        "weight",
        "wheelchair",
        "windsurf",
        "workout",
        "yoga",
    }
)
_GENERIC_WORDS = _TIMES_OF_DAY | _WEEKDAYS | _SPORT_WORDS
# A number, a date or a time ("001", "2026-03-08", "06:30") and lone separators say nothing.
_NEUTRAL = re.compile(r"[\d\-/:.,]+")
_FILE_NAME = re.compile(r"\S+\.(fit|gpx|tcx)(\.gz)?", re.IGNORECASE)

# Garmin's outdoor activity types, which it prefixes with the place the activity started.
_GARMIN_PLACE_TYPES = tuple(
    tuple(phrase.split())
    for phrase in sorted(
        (
            "cycling",
            "road cycling",
            "gravel cycling",
            "mountain biking",
            "e-bike ride",
            "running",
            "trail running",
            "walking",
            "hiking",
            "open water swimming",
            "rowing",
            "kayaking",
            "resort skiing",
            "backcountry skiing",
            "cross country classic skiing",
            "cross country skate skiing",
            "snowboarding",
            "stand up paddleboarding",
        ),
        key=lambda phrase: -len(phrase.split()),
    )
)
_MAX_PLACE_WORDS = 4
# Lower-case words that occur inside place names ("Sant Feliu de Guíxols", "Stratford upon Avon").
_PLACE_CONNECTORS = frozenset(
    {"de", "del", "della", "di", "da", "do", "dos", "das", "la", "le", "les", "los", "las"}
    | {"du", "des", "am", "an", "der", "im", "sur", "en", "y", "i", "on", "upon", "of", "the"}
)


def is_default_name(name: str | None) -> bool:
    """True when `name` is absent or has the shape of a provider-generated default."""
    words = (name or "").split()
    if not words:
        return True
    if len(words) == 1 and _FILE_NAME.fullmatch(words[0]):
        return True
    if all(_is_generic(word.lower()) for word in words):
        return True
    return _is_place_and_garmin_type(words)


def _is_generic(word: str) -> bool:
    return word in _GENERIC_WORDS or _NEUTRAL.fullmatch(word) is not None


def _is_place_and_garmin_type(words: list[str]) -> bool:
    lowered = [w.lower() for w in words]
    for phrase in _GARMIN_PLACE_TYPES:
        if len(words) > len(phrase) and tuple(lowered[-len(phrase) :]) == phrase:
            place = words[: -len(phrase)]
            if place[-1] == "-":  # "Girona - Cycling"
                place = place[:-1]
            return _looks_like_place(place)
    return False


def _looks_like_place(words: list[str]) -> bool:
    """One to four words, none with a digit, capitalised but for connectors ("de", "upon")."""
    if not 1 <= len(words) <= _MAX_PLACE_WORDS or not words[0][:1].isupper():
        return False
    return all(
        not any(ch.isdigit() for ch in word)
        and (word[:1].isupper() or word.lower() in _PLACE_CONNECTORS)
        for word in words
    )
