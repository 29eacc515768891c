"""The providers Tracekit knows, by the name stored in the database."""

from enum import StrEnum


class ProviderName(StrEnum):
    FILE = "file"
    GARMIN = "garmin"
    STRAVA = "strava"
    RIDEWITHGPS = "ridewithgps"
    INTERVALSICU = "intervalsicu"
    SPREADSHEET = "spreadsheet"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    ProviderName.FILE: "Files",
    ProviderName.GARMIN: "Garmin Connect",
    ProviderName.STRAVA: "Strava",
    ProviderName.RIDEWITHGPS: "RideWithGPS",
    ProviderName.INTERVALSICU: "intervals.icu",
    ProviderName.SPREADSHEET: "Training log",
}
