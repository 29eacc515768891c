"""Tracekit's own sport vocabulary.

Providers label one session differently (Garmin "cycling/road", Strava "Ride", a spreadsheet
"Bike"); everything inside Tracekit speaks this vocabulary so that matching and display never
compare provider strings. Families group sports that the same session may be labelled with.
"""

from enum import StrEnum


class Sport(StrEnum):
    RIDE = "ride"
    GRAVEL_RIDE = "gravel_ride"
    MOUNTAIN_BIKE = "mountain_bike"
    VIRTUAL_RIDE = "virtual_ride"
    RUN = "run"
    TRAIL_RUN = "trail_run"
    VIRTUAL_RUN = "virtual_run"
    SWIM = "swim"
    WALK = "walk"
    HIKE = "hike"
    ROW = "row"
    SKI = "ski"
    STRENGTH = "strength"
    YOGA = "yoga"
    WORKOUT = "workout"
    MULTISPORT = "multisport"
    OTHER = "other"


class SportFamily(StrEnum):
    CYCLING = "cycling"
    RUNNING = "running"
    SWIMMING = "swimming"
    ON_FOOT = "on_foot"
    ROWING = "rowing"
    SKIING = "skiing"
    GYM = "gym"
    MULTISPORT = "multisport"
    OTHER = "other"


FAMILY: dict[Sport, SportFamily] = {
    Sport.RIDE: SportFamily.CYCLING,
    Sport.GRAVEL_RIDE: SportFamily.CYCLING,
    Sport.MOUNTAIN_BIKE: SportFamily.CYCLING,
    Sport.VIRTUAL_RIDE: SportFamily.CYCLING,
    Sport.RUN: SportFamily.RUNNING,
    Sport.TRAIL_RUN: SportFamily.RUNNING,
    Sport.VIRTUAL_RUN: SportFamily.RUNNING,
    Sport.SWIM: SportFamily.SWIMMING,
    Sport.WALK: SportFamily.ON_FOOT,
    Sport.HIKE: SportFamily.ON_FOOT,
    Sport.ROW: SportFamily.ROWING,
    Sport.SKI: SportFamily.SKIING,
    Sport.STRENGTH: SportFamily.GYM,
    Sport.YOGA: SportFamily.GYM,
    Sport.WORKOUT: SportFamily.GYM,
    Sport.MULTISPORT: SportFamily.MULTISPORT,
    Sport.OTHER: SportFamily.OTHER,
}


def family(sport: Sport | str | None) -> SportFamily | None:
    """The family of a sport, or None when the sport is unknown."""
    if sport is None:
        return None
    try:
        return FAMILY[Sport(sport)]
    except ValueError:
        return None


# FIT `sport` / `sub_sport` names (as fitdecode's profile spells them) → Tracekit sport.
_FIT_SUB_SPORT: dict[str, Sport] = {
    "gravel_cycling": Sport.GRAVEL_RIDE,
    "cyclocross": Sport.GRAVEL_RIDE,
    "mountain": Sport.MOUNTAIN_BIKE,
    "downhill": Sport.MOUNTAIN_BIKE,
    "virtual_activity": Sport.VIRTUAL_RIDE,
    "indoor_cycling": Sport.VIRTUAL_RIDE,
    "trail": Sport.TRAIL_RUN,
    "treadmill": Sport.VIRTUAL_RUN,
    "indoor_running": Sport.VIRTUAL_RUN,
    "strength_training": Sport.STRENGTH,
    "yoga": Sport.YOGA,
    "pilates": Sport.YOGA,
    "indoor_rowing": Sport.ROW,
}

_FIT_SPORT: dict[str, Sport] = {
    "cycling": Sport.RIDE,
    "e_biking": Sport.RIDE,
    "running": Sport.RUN,
    "swimming": Sport.SWIM,
    "walking": Sport.WALK,
    "hiking": Sport.HIKE,
    "rowing": Sport.ROW,
    "cross_country_skiing": Sport.SKI,
    "alpine_skiing": Sport.SKI,
    "training": Sport.WORKOUT,
    "fitness_equipment": Sport.WORKOUT,
    "multisport": Sport.MULTISPORT,
}


def from_fit(sport: str | None, sub_sport: str | None) -> Sport:
    """Map a FIT sport/sub-sport pair to Tracekit's vocabulary."""
    if sub_sport and sub_sport in _FIT_SUB_SPORT:
        mapped = _FIT_SUB_SPORT[sub_sport]
        # "virtual_activity" on a run is a virtual run, not a ride.
        if mapped is Sport.VIRTUAL_RIDE and sport == "running":
            return Sport.VIRTUAL_RUN
        return mapped
    return _FIT_SPORT.get(sport or "", Sport.OTHER)


# Free-text sport labels (TCX Sport attribute, GPX <type>, Strava types, spreadsheet words).
_WORDS: dict[str, Sport] = {
    "biking": Sport.RIDE,
    "bike": Sport.RIDE,
    "cycling": Sport.RIDE,
    "ride": Sport.RIDE,
    "road_biking": Sport.RIDE,
    "road": Sport.RIDE,
    "ebikeride": Sport.RIDE,
    "gravelride": Sport.GRAVEL_RIDE,
    "gravel": Sport.GRAVEL_RIDE,
    "gravel_cycling": Sport.GRAVEL_RIDE,
    "mountainbikeride": Sport.MOUNTAIN_BIKE,
    "mountain_biking": Sport.MOUNTAIN_BIKE,
    "mtb": Sport.MOUNTAIN_BIKE,
    "virtualride": Sport.VIRTUAL_RIDE,
    "virtual_ride": Sport.VIRTUAL_RIDE,
    "indoor_cycling": Sport.VIRTUAL_RIDE,
    "running": Sport.RUN,
    "run": Sport.RUN,
    "trailrun": Sport.TRAIL_RUN,
    "trail_running": Sport.TRAIL_RUN,
    "virtualrun": Sport.VIRTUAL_RUN,
    "treadmill_running": Sport.VIRTUAL_RUN,
    "swim": Sport.SWIM,
    "swimming": Sport.SWIM,
    "lap_swimming": Sport.SWIM,
    "open_water_swimming": Sport.SWIM,
    "walk": Sport.WALK,
    "walking": Sport.WALK,
    "hike": Sport.HIKE,
    "hiking": Sport.HIKE,
    "rowing": Sport.ROW,
    "row": Sport.ROW,
    "weighttraining": Sport.STRENGTH,
    "strength": Sport.STRENGTH,
    "strength_training": Sport.STRENGTH,
    "yoga": Sport.YOGA,
    "workout": Sport.WORKOUT,
    "crossfit": Sport.WORKOUT,
    "ski": Sport.SKI,
    "skiing": Sport.SKI,
    "alpineski": Sport.SKI,
    "nordicski": Sport.SKI,
    "backcountryski": Sport.SKI,
    "cross_country_skiing": Sport.SKI,
    "openwaterswim": Sport.SWIM,
    # Garmin Connect activity type keys.
    "street_running": Sport.RUN,
    "track_running": Sport.RUN,
    "ultra_run": Sport.RUN,
    "obstacle_run": Sport.TRAIL_RUN,
    "e_bike_fitness": Sport.RIDE,
    "e_bike_mountain": Sport.MOUNTAIN_BIKE,
    "downhill_biking": Sport.MOUNTAIN_BIKE,
    "bmx": Sport.RIDE,
    "recumbent_cycling": Sport.RIDE,
    "track_cycling": Sport.RIDE,
    "hand_cycling": Sport.RIDE,
    "indoor_hand_cycling": Sport.VIRTUAL_RIDE,
    "cardio": Sport.WORKOUT,
    "indoor_cardio": Sport.WORKOUT,
    "hiit": Sport.WORKOUT,
    "elliptical": Sport.WORKOUT,
    "stair_climbing": Sport.WORKOUT,
    "floor_climbing": Sport.WORKOUT,
    "casual_walking": Sport.WALK,
    "speed_walking": Sport.WALK,
    "mountaineering": Sport.HIKE,
    "resort_skiing": Sport.SKI,
    "resort_snowboarding": Sport.SKI,
    "resort_skiing_snowboarding_ws": Sport.SKI,
    "backcountry_skiing": Sport.SKI,
    "backcountry_snowboarding": Sport.SKI,
    "cross_country_skiing_ws": Sport.SKI,
    "skate_skiing_ws": Sport.SKI,
    "multisport": Sport.MULTISPORT,
    "other": Sport.OTHER,
}


def from_label(label: str | None) -> Sport:
    """Map a provider's free-text activity type to Tracekit's vocabulary (OTHER if unknown)."""
    if not label:
        return Sport.OTHER
    key = label.strip().lower().replace(" ", "_").replace("-", "_")
    return _WORDS.get(key) or _WORDS.get(key.replace("_", ""), Sport.OTHER)
