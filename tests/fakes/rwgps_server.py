"""A stateful fake RideWithGPS on 127.0.0.1 (shared/reference/provider-apis.md §3, §6.4).

It speaks the documented v1 routes (auth tokens from email and password, the current user,
trips listed newest change first with `page`/`page_size` and pagination meta, one trip with its
gear and track points), OAuth (consent page that redirects at once, `/oauth/token.json` with a
JSON or form body), and the older routes Tracekit writes and downloads with (`PATCH`/`PUT
/trips/{id}.json` with `{"trip": {...}}`, `/users/{id}/gear.json` with `offset`/`limit`,
`/trips/{id}.tcx|gpx`). Credentials are accepted the ways real clients send them: bearer token,
`x-rwgps-api-key` + `x-rwgps-auth-token` headers, Basic `api_key:auth_token`, or the `apikey` /
`auth_token` query parameters; the recorded `auth` says which. Errors are `{"error": "..."}`.
Every answer carries `x-rwgps-datetime`. A write changes `updated_at`, as on the real service.

Control API (never recorded):
  POST /__fake__/reset        forget everything
  POST /__fake__/seed         {"api_keys": [...], "users": [{"id", "email", "password", "name"}],
                               "auth_tokens": {token: user_id}, "access_tokens": {token:
                               user_id}, "clients": {client_id: secret}, "gear": [...],
                               "trips": [...], "files": {trip_id: {"tcx": base64, ...}},
                               "authorize": "allow"|"deny"}
  POST /__fake__/fail-next    {"status", "headers", "body", "method", "path" (regex), "after",
                               "times", "delay"}
  POST /__fake__/revoke       every token stops working (the user revoked Tracekit)
  GET  /__fake__/requests     every request: method, path, query, auth, json
"""

import base64
import json
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from werkzeug.wrappers import Request, Response

from tests.fakes.service import FakeService, ok

USER_ID = 1


def rwgps_trip(
    trip_id: int | str,
    start_utc: datetime,
    zone: str = "America/Los_Angeles",
    **fields: Any,
) -> dict[str, Any]:
    """A trip as the v1 detail returns it (the list leaves out `track_points` and `gear`)."""
    local = start_utc.astimezone(ZoneInfo(zone))
    changed = (start_utc + timedelta(hours=1)).astimezone(ZoneInfo(zone))
    trip: dict[str, Any] = {
        "id": int(trip_id),
        "url": f"https://ridewithgps.com/api/v1/trips/{trip_id}.json",
        "name": "Morning Ride",
        "description": None,
        "departed_at": local.isoformat(timespec="seconds"),
        "time_zone": zone,
        "locality": "Eugene",
        "administrative_area": "OR",
        "country_code": "US",
        "activity_type": "cycling:road",
        "fit_sport": 2,
        "fit_sub_sport": 7,
        "is_stationary": False,
        "distance": 16146,
        "duration": 2705,
        "moving_time": 2456,
        "elevation_gain": 363,
        "elevation_loss": 352,
        "first_lat": 44.012199,
        "first_lng": -123.073723,
        "avg_hr": 163,
        "max_hr": 188,
        "calories": 711,
        "created_at": changed.isoformat(timespec="seconds"),
        "updated_at": changed.isoformat(timespec="seconds"),
        "device_manufacturer": "Garmin",
        "device_display_name": "Edge 540",
        "user_id": USER_ID,
        "gear_id": None,
        "track_points": [{"x": -123.073723, "y": 44.012199, "e": 158.2, "t": 1199561107}],
    }
    trip.update(fields)
    return trip


def tcx_bytes(start_utc: datetime, seconds: int = 600) -> bytes:
    """A small TCX file of a ride (what `/trips/{id}.tcx?sub_format=history` returns)."""
    stamp = start_utc.astimezone(UTC)
    points = "".join(
        "<Trackpoint><Time>{t}</Time><Position><LatitudeDegrees>{lat:.6f}</LatitudeDegrees>"
        "<LongitudeDegrees>-123.073723</LongitudeDegrees></Position>"
        "<DistanceMeters>{d:.1f}</DistanceMeters><HeartRateBpm><Value>140</Value>"
        "</HeartRateBpm></Trackpoint>".format(
            t=(stamp + timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            lat=44.012199 + s * 0.00001,
            d=s * 5.0,
        )
        for s in range(0, seconds + 1, 10)
    )
    start = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/'
        'TrainingCenterDatabase/v2"><Activities><Activity Sport="Biking">'
        f'<Id>{start}</Id><Lap StartTime="{start}"><TotalTimeSeconds>{seconds}'
        f"</TotalTimeSeconds><DistanceMeters>{seconds * 5.0:.1f}</DistanceMeters>"
        f"<Calories>100</Calories><Intensity>Active</Intensity><TriggerMethod>Manual"
        f"</TriggerMethod><Track>{points}</Track></Lap></Activity></Activities>"
        "</TrainingCenterDatabase>"
    ).encode()


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status=status, mimetype="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"error": message}, status)


class RideWithGpsFake(FakeService):
    """Start with `with RideWithGpsFake() as fake:`; `fake.url` is the base URL to use."""

    failure_mimetype = "application/json"

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        super().__init__()

    def _reset_state(self) -> None:
        self.api_keys: set[str] = set()
        self.users: dict[str, dict[str, Any]] = {}  # email -> user
        self.auth_tokens: dict[str, int] = {}
        self.access_tokens: dict[str, int] = {}
        self.clients: dict[str, str] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.gear: dict[str, dict[str, Any]] = {}
        self.trips: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, bytes]] = {}
        self.authorize_answer = "allow"

    # -- control helpers (over HTTP) ------------------------------------------------------

    def revoke(self) -> None:
        self._control.post("/revoke").raise_for_status()

    # -- the service hooks ----------------------------------------------------------------

    def _seed(self, state: dict[str, Any]) -> None:
        self.api_keys.update(state.get("api_keys", []))
        for user in state.get("users", []):
            self.users[str(user["email"])] = dict(user)
        self.auth_tokens.update({k: int(v) for k, v in state.get("auth_tokens", {}).items()})
        self.access_tokens.update({k: int(v) for k, v in state.get("access_tokens", {}).items()})
        self.clients.update({str(k): str(v) for k, v in state.get("clients", {}).items()})
        for item in state.get("gear", []):
            self.gear[str(item["id"])] = dict(item)
        for trip in state.get("trips", []):
            self.trips[str(trip["id"])] = dict(trip)
        for trip_id, formats in state.get("files", {}).items():
            self.files[str(trip_id)] = {k: base64.b64decode(v) for k, v in formats.items()}
        if "authorize" in state:
            self.authorize_answer = state["authorize"]

    def _control_extra(self, action: str) -> Response | None:
        if action == "revoke":
            self.auth_tokens.clear()
            self.access_tokens.clear()
            return ok()
        return None

    def _control_not_found(self, request: Request) -> Response:
        return _error(404, "Not found")

    def _auth_scheme(self, request: Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth:
            return auth.split(" ", 1)[0].lower()
        if request.headers.get("x-rwgps-auth-token"):
            return "headers"
        if request.args.get("auth_token"):
            return "query"
        return None

    def _answer(self, request: Request, headers: dict[str, str]) -> Response:
        response = self._route(request)
        response.headers["x-rwgps-datetime"] = self._clock().isoformat()
        return response

    # -- auth -----------------------------------------------------------------------------

    def _user_of(self, request: Request) -> int | None:
        auth = request.headers.get("Authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer":
            return self.access_tokens.get(value)
        key = token = None
        if scheme.lower() == "basic":
            try:
                key, _, token = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return None
        else:
            key = request.headers.get("x-rwgps-api-key") or request.args.get("apikey")
            token = request.headers.get("x-rwgps-auth-token") or request.args.get("auth_token")
        if key not in self.api_keys:
            return None
        return self.auth_tokens.get(token or "")

    def _params(self, request: Request) -> dict[str, Any]:
        body = request.get_json(silent=True)
        params: dict[str, Any] = dict(request.form)
        if isinstance(body, dict):
            params.update(body)
        return params

    def _authorize(self, request: Request) -> Response:
        args = request.args
        if args.get("client_id") not in self.clients:
            return _error(400, "Unknown client")
        query: dict[str, str] = {}
        if args.get("state") is not None:
            query["state"] = args["state"]
        if self.authorize_answer == "deny":
            query.update(error="access_denied", error_description="The user denied access.")
        else:
            code = secrets.token_hex(8)
            self.codes[code] = {
                "client_id": args["client_id"],
                "redirect_uri": args.get("redirect_uri"),
            }
            query["code"] = code
        return Response(
            status=302, headers={"Location": f"{args.get('redirect_uri', '')}?{urlencode(query)}"}
        )

    def _token(self, request: Request) -> Response:
        params = self._params(request)
        client_id = str(params.get("client_id", ""))
        if self.clients.get(client_id) != params.get("client_secret"):
            return _error(401, "invalid_client")
        code = self.codes.pop(str(params.get("code", "")), None)
        if code is None or code["redirect_uri"] != params.get("redirect_uri"):
            return _error(400, "invalid_grant")
        token = f"rw-oauth-{secrets.token_hex(6)}"
        self.access_tokens[token] = USER_ID
        return _json(
            {
                "access_token": token,
                "token_type": "Bearer",
                "scope": "user",
                "created_at": int(self._clock().timestamp()),
                "user_id": USER_ID,
            }
        )

    def _auth_token(self, request: Request) -> Response:
        if request.headers.get("x-rwgps-api-key") not in self.api_keys:
            return _error(401, "Failed to authenticate the user")
        body = request.get_json(silent=True) or {}
        user_in = body.get("user") if isinstance(body, dict) else None
        if not isinstance(user_in, dict):
            return _error(400, "user is required")
        user = self.users.get(str(user_in.get("email")))
        if user is None or user.get("password") != user_in.get("password"):
            return _error(401, "Failed to authenticate the user")
        token = secrets.token_hex(12)
        self.auth_tokens[token] = int(user["id"])
        public = {"id": user["id"], "name": user.get("name")}
        return _json(
            {
                "auth_token": {
                    "auth_token": token,
                    "api_key": request.headers["x-rwgps-api-key"],
                    "user": public,
                }
            },
            201,
        )

    # -- routes ---------------------------------------------------------------------------

    def _route(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == "/oauth/authorize" and method == "GET":
            return self._authorize(request)
        if path == "/oauth/token.json" and method == "POST":
            return self._token(request)
        if path == "/api/v1/auth_tokens.json" and method == "POST":
            return self._auth_token(request)
        user_id = self._user_of(request)
        if user_id is None:
            return _error(401, "Failed to authenticate the user")
        if path in ("/api/v1/users/current.json", "/users/current.json") and method == "GET":
            user = next((u for u in self.users.values() if int(u["id"]) == user_id), None)
            return _json({"user": {"id": user_id, "name": (user or {}).get("name", "Rider")}})
        if path == "/api/v1/trips.json" and method == "GET":
            return self._list(request, user_id)
        if match := re.fullmatch(r"/api/v1/trips/(\d+)\.json", path):
            trip = self.trips.get(match.group(1))
            if trip is None:
                return _error(404, "Record not found")
            if int(trip.get("user_id", USER_ID)) != user_id:
                return _error(403, "Forbidden")
            if method == "GET":
                return _json({"trip": self._detail(trip)})
            if method == "DELETE":
                del self.trips[match.group(1)]
                return Response(status=204)
        if (match := re.fullmatch(r"/trips/(\d+)\.json", path)) and method in ("PATCH", "PUT"):
            trip = self.trips.get(match.group(1))
            if trip is None:
                return _error(404, "Record not found")
            return self._update(request, trip)
        if match := re.fullmatch(r"/trips/(\d+)\.(tcx|gpx|kml)", path):
            data = self.files.get(match.group(1), {}).get(match.group(2))
            if match.group(1) not in self.trips or data is None:
                return _error(404, "Record not found")
            return Response(data, mimetype="application/xml")
        if match := re.fullmatch(r"/users/(\d+)/gear\.json", path):
            if int(match.group(1)) != user_id:
                return _error(403, "Forbidden")
            offset = int(request.args.get("offset") or 0)
            limit = int(request.args.get("limit") or 20)
            items = list(self.gear.values())
            return _json({"results": items[offset : offset + limit], "results_count": len(items)})
        return _error(404, "Not found")

    def _list(self, request: Request, user_id: int) -> Response:
        page = max(int(request.args.get("page") or 1), 1)
        size = min(max(int(request.args.get("page_size") or 20), 20), 200)
        mine = [t for t in self.trips.values() if int(t.get("user_id", USER_ID)) == user_id]
        mine.sort(key=lambda t: (datetime.fromisoformat(t["updated_at"]), t["id"]), reverse=True)
        chosen = mine[(page - 1) * size : page * size]
        pages = max((len(mine) + size - 1) // size, 1)
        next_url = (
            f"https://ridewithgps.com/api/v1/trips.json?page={page + 1}&page_size={size}"
            if page < pages
            else None
        )
        listed = [
            {k: v for k, v in t.items() if k not in ("track_points", "gear", "gear_id")}
            for t in chosen
        ]
        meta = {
            "record_count": len(mine),
            "page_count": pages,
            "page_size": size,
            "next_page_url": next_url,
        }
        return _json({"trips": listed, "meta": {"pagination": meta}})

    def _detail(self, trip: dict[str, Any]) -> dict[str, Any]:
        shown = {k: v for k, v in trip.items() if k != "gear_id"}
        gear = self.gear.get(str(trip.get("gear_id"))) if trip.get("gear_id") else None
        shown["gear"] = (
            {
                "id": gear["id"],
                "make": gear.get("make"),
                "model": gear.get("model"),
                "description": "",
                "exclude_from_totals": False,
            }
            if gear
            else None
        )
        return shown

    def _update(self, request: Request, trip: dict[str, Any]) -> Response:
        body = request.get_json(silent=True)
        changes = body.get("trip") if isinstance(body, dict) else None
        if not isinstance(changes, dict):
            return _error(422, "trip is required")
        for key, value in changes.items():
            if key == "gear_id" and value is not None and str(value) not in self.gear:
                return _error(422, "Gear not found")
            if key in ("name", "description", "gear_id"):
                trip[key] = value
        zone = ZoneInfo(str(trip.get("time_zone") or "UTC"))
        trip["updated_at"] = self._clock().astimezone(zone).isoformat(timespec="seconds")
        return _json({"trip": self._detail(trip)})
