"""A stateful fake Strava on 127.0.0.1 (shared/reference/provider-apis.md §1, §6.2).

It speaks what Tracekit and stravalib use: the OAuth consent page (redirects at once, with the
`state` and the granted scopes, or `error=access_denied`), the token endpoint (code exchange,
refresh with a rotated refresh token, form or query parameters), deauthorisation, the athlete
with bikes and shoes, the activity list (`before`/`after` epoch seconds, `page`/`per_page`,
newest first, summary fields only), one activity (detail), updates (JSON body or query),
gear, and uploads processed asynchronously (ready after N polls; duplicates by file hash or
external id, refused at once or after processing, optionally as Strava's HTML anchor).
Bearer header or `access_token` query; expired or unknown tokens get Strava's 401 body, a
missing scope its own 401. Every /api/v3 response carries `X-RateLimit-*` (and, except
uploads, `X-ReadRateLimit-*`); the counters use the fake's clock (windows at :00/:15/:30/:45
and UTC midnight), and a request over a limit gets the 429 body.

Control API (never recorded or counted):
  POST /__fake__/reset            forget everything
  POST /__fake__/seed             {"apps": {client_id: secret}, "tokens": [{"access_token",
                                   "refresh_token", "scope", "expires_at"}], "athlete": {...},
                                   "bikes", "shoes", "retired_gear", "activities",
                                   "files": {activity_id: base64}, "limits": {"overall": [15m,
                                   day], "read": [15m, day]}, "usage": (same shape),
                                   "duplicate_mode": "processing"|"immediate",
                                   "duplicate_html": bool, "polls_until_ready": n,
                                   "authorize": "allow"|"deny", "granted_scope": "a,b"}
  POST /__fake__/fail-next        {"status", "headers", "body", "method", "path" (regex),
                                   "after", "times", "delay" (seconds; without "status" the
                                   normal answer follows)}
  POST /__fake__/expire-tokens    every access token stops working (refresh tokens still do)
  POST /__fake__/deauthorize      the athlete revoked Tracekit on strava.com: nothing works
  GET  /__fake__/requests         every request: method, path, query, auth, json, form
"""

import base64
import hashlib
import io
import json
import re
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from werkzeug.wrappers import Request, Response

from tests.fakes.service import FakeService, ok
from tracekit.files.decode import decode
from tracekit.sports import Sport

ALL_SCOPES = "read,activity:read_all,activity:write,profile:read_all"
TOKEN_LIFETIME = timedelta(hours=6)
DEFAULT_LIMITS = {"overall": (200, 2000), "read": (100, 1000)}
_SUMMARY_DROPS = ("description", "gear", "segment_efforts", "calories", "laps", "splits_metric")
_SPORT_TYPES = {
    Sport.RIDE: "Ride",
    Sport.GRAVEL_RIDE: "GravelRide",
    Sport.MOUNTAIN_BIKE: "MountainBikeRide",
    Sport.VIRTUAL_RIDE: "VirtualRide",
    Sport.RUN: "Run",
    Sport.TRAIL_RUN: "TrailRun",
    Sport.SWIM: "Swim",
    Sport.WALK: "Walk",
    Sport.HIKE: "Hike",
}


def strava_timezone(zone: str, moment: datetime) -> str:
    """Strava's way of naming a zone: "(GMT+01:00) Europe/Madrid"."""
    offset = moment.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"(GMT{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}) {zone}"


def strava_activity(
    activity_id: int | str,
    start_utc: datetime,
    zone: str = "Europe/Madrid",
    **fields: Any,
) -> dict[str, Any]:
    """An activity as Strava's detail endpoint returns it (the list shows a summary of it)."""
    local = start_utc.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    item: dict[str, Any] = {
        "id": int(activity_id),
        "resource_state": 3,
        "athlete": {"id": 134815, "resource_state": 1},
        "name": "Morning Ride",
        "type": "Ride",
        "sport_type": "Ride",
        "start_date": start_utc.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "start_date_local": local.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timezone": strava_timezone(zone, start_utc),
        "utc_offset": int(
            (start_utc.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)).total_seconds()
        ),
        "distance": 28099.0,
        "moving_time": 4207,
        "elapsed_time": 4410,
        "total_elevation_gain": 516.0,
        "gear_id": None,
        "device_name": "Garmin Edge 1030",
        "external_id": None,
        "upload_id": None,
        "manual": False,
        "trainer": False,
        "commute": False,
        "private": False,
        "visibility": "everyone",
        "description": "",
        "start_latlng": [41.98, 2.82],
        "map": {
            "id": f"a{activity_id}",
            "summary_polyline": "ki{eFvqfiVsBmA`Feh@qg@iX`B}JeCcCqGjIq~@kf@cM{KeHeX",
        },
        "segment_efforts": [],
    }
    item.update(fields)
    return item


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(value), status=status, mimetype="application/json", headers=headers)


def _fault(status: int, message: str, resource: str, field: str, code: str) -> Response:
    body = {"message": message, "errors": [{"resource": resource, "field": field, "code": code}]}
    return _json(body, status)


def _epoch(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def _quarter(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute // 15 * 15, second=0, microsecond=0)


class StravaFake(FakeService):
    """Start with `with StravaFake() as fake:`; `fake.url` is the base URL to point at.

    `clock` is the fake's idea of now (token expiry, rate windows); tests share theirs.
    """

    failure_mimetype = "application/json"

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        super().__init__()

    def _reset_state(self) -> None:
        self.apps: dict[str, str] = {}
        self.codes: dict[str, dict[str, str]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}  # access token -> scope, expires_at
        self.refresh_tokens: dict[str, dict[str, Any]] = {}  # refresh token -> scope
        self.athlete: dict[str, Any] = {"id": 134815, "firstname": "Ana", "lastname": "Vidal"}
        self.bikes: list[dict[str, Any]] = []
        self.shoes: list[dict[str, Any]] = []
        self.retired_gear: list[dict[str, Any]] = []
        self.activities: dict[str, dict[str, Any]] = {}
        self.file_hashes: dict[str, str] = {}  # sha256 -> activity id
        self.uploads: dict[int, dict[str, Any]] = {}
        self.limits = dict(DEFAULT_LIMITS)
        self.usage = {"overall": [0, 0], "read": [0, 0]}
        self._window: tuple[datetime, date] | None = None
        self.duplicate_mode = "processing"
        self.duplicate_html = False
        self.polls_until_ready = 1
        self.authorize_answer = "allow"
        self.granted_scope: str | None = None
        self._serial = 0

    # -- control helpers (over HTTP) ------------------------------------------------------

    def grant(
        self,
        access_token: str,
        refresh_token: str,
        *,
        scope: str = ALL_SCOPES,
        expires_at: datetime | None = None,
    ) -> None:
        """Tokens as if the athlete had authorised Tracekit earlier."""
        expiry = expires_at or (self._clock() + TOKEN_LIFETIME)
        token = {
            "access_token": access_token,
            "refresh_token": refresh_token,
            "scope": scope,
            "expires_at": expiry.isoformat(),
        }
        self.seed(tokens=[token])

    def expire_tokens(self) -> None:
        self._control.post("/expire-tokens").raise_for_status()

    def deauthorize(self) -> None:
        self._control.post("/deauthorize").raise_for_status()

    # -- the service hooks ----------------------------------------------------------------

    def _seed(self, state: dict[str, Any]) -> None:
        self.apps.update({str(k): str(v) for k, v in state.get("apps", {}).items()})
        for token in state.get("tokens", []):
            expires = datetime.fromisoformat(token["expires_at"])
            self.tokens[token["access_token"]] = {"scope": token["scope"], "expires_at": expires}
            if token.get("refresh_token"):
                self.refresh_tokens[token["refresh_token"]] = {"scope": token["scope"]}
        self.athlete.update(state.get("athlete", {}))
        for key in ("bikes", "shoes", "retired_gear"):
            if key in state:
                setattr(self, key, [dict(g) for g in state[key]])
        for item in state.get("activities", []):
            self.activities[str(item["id"])] = dict(item)
        for activity_id, encoded in state.get("files", {}).items():
            digest = hashlib.sha256(base64.b64decode(encoded)).hexdigest()
            self.file_hashes[digest] = str(activity_id)
        for kind, pair in state.get("limits", {}).items():
            self.limits[kind] = (int(pair[0]), int(pair[1]))
        if "usage" in state:
            self._roll_window()
            for kind, pair in state["usage"].items():
                self.usage[kind] = [int(pair[0]), int(pair[1])]
        for key in ("duplicate_mode", "duplicate_html", "polls_until_ready", "granted_scope"):
            if key in state:
                setattr(self, key, state[key])
        if "authorize" in state:
            self.authorize_answer = state["authorize"]

    def _control_extra(self, action: str) -> Response | None:
        if action == "expire-tokens":
            self.tokens.clear()
        elif action == "deauthorize":
            self.tokens.clear()
            self.refresh_tokens.clear()
        else:
            return None
        return ok()

    def _control_not_found(self, request: Request) -> Response:
        return _json({"message": "Not Found"}, 404)

    def _auth_scheme(self, request: Request) -> str | None:
        scheme = super()._auth_scheme(request)
        if scheme is None and "access_token" in request.args:
            scheme = "query"
        return scheme

    def _record_extra(self, request: Request) -> dict[str, Any]:
        form = dict(request.form) if request.mimetype != "multipart/form-data" else {}
        return {"form": form, "files": sorted(request.files)}

    def _before(self, request: Request) -> dict[str, str]:
        api = request.path.startswith("/api/v3/") and "/oauth/" not in request.path
        return self._count(request) if api else {}

    def _answer(self, request: Request, headers: dict[str, str]) -> Response:
        api = request.path.startswith("/api/v3/") and "/oauth/" not in request.path
        if api and self._over_limit(request):
            response = _fault(429, "Rate Limit Exceeded", "Application", "rate limit", "exceeded")
        else:
            response = self._route(request)
        for key, value in headers.items():
            response.headers[key] = value
        return response

    # -- rate limits ----------------------------------------------------------------------

    def _roll_window(self) -> None:
        now = self._clock().astimezone(UTC)
        window = (_quarter(now), now.date())
        if self._window is None:
            self._window = window
            return
        if window[0] != self._window[0]:
            for pair in self.usage.values():
                pair[0] = 0
        if window[1] != self._window[1]:
            for pair in self.usage.values():
                pair[1] = 0
        self._window = window

    @staticmethod
    def _is_upload(request: Request) -> bool:
        return request.method == "POST" and request.path in (
            "/api/v3/uploads",
            "/api/v3/activities",
        )

    def _count(self, request: Request) -> dict[str, str]:
        self._roll_window()
        kinds = ["overall"] if self._is_upload(request) else ["overall", "read"]
        for kind in kinds:
            self.usage[kind][0] += 1
            self.usage[kind][1] += 1
        headers = {
            "X-RateLimit-Limit": "{},{}".format(*self.limits["overall"]),
            "X-RateLimit-Usage": "{},{}".format(*self.usage["overall"]),
        }
        if "read" in kinds:
            headers["X-ReadRateLimit-Limit"] = "{},{}".format(*self.limits["read"])
            headers["X-ReadRateLimit-Usage"] = "{},{}".format(*self.usage["read"])
        return headers

    def _over_limit(self, request: Request) -> bool:
        kinds = ["overall"] if self._is_upload(request) else ["overall", "read"]
        return any(
            self.usage[kind][0] > self.limits[kind][0] or self.usage[kind][1] > self.limits[kind][1]
            for kind in kinds
        )

    # -- OAuth ----------------------------------------------------------------------------

    def _params(self, request: Request) -> dict[str, str]:
        """stravalib sends token parameters as a form; older clients in the query."""
        return {**dict(request.args), **dict(request.form)}

    def _issue(self, scope: str) -> dict[str, Any]:
        self._serial += 1
        access, refresh = f"sa-{self._serial}-{secrets.token_hex(4)}", f"sr-{self._serial}"
        expires = self._clock() + TOKEN_LIFETIME
        self.tokens[access] = {"scope": scope, "expires_at": expires}
        self.refresh_tokens[refresh] = {"scope": scope}
        return {
            "token_type": "Bearer",
            "access_token": access,
            "refresh_token": refresh,
            "expires_at": int(expires.timestamp()),
            "expires_in": int(TOKEN_LIFETIME.total_seconds()),
        }

    def _authorize(self, request: Request) -> Response:
        args = request.args
        if args.get("client_id") not in self.apps:
            return _fault(400, "Bad Request", "Application", "client_id", "invalid")
        back = args.get("redirect_uri", "")
        state = args.get("state")
        query: dict[str, str] = {}
        if state is not None:
            query["state"] = state
        if self.authorize_answer == "deny":
            query["error"] = "access_denied"
        else:
            code = secrets.token_hex(8)
            granted = self.granted_scope or args.get("scope") or "read,activity:read"
            self.codes[code] = {"client_id": args["client_id"], "scope": granted}
            query.update({"code": code, "scope": granted})
        return Response(status=302, headers={"Location": f"{back}?{urlencode(query)}"})

    def _token(self, request: Request) -> Response:
        params = self._params(request)
        client_id = params.get("client_id", "")
        if self.apps.get(client_id) != params.get("client_secret"):
            return _fault(401, "Authorization Error", "Application", "client_secret", "invalid")
        grant = params.get("grant_type")
        if grant == "authorization_code":
            code = self.codes.pop(params.get("code", ""), None)
            if code is None or code["client_id"] != client_id:
                return _fault(400, "Bad Request", "AuthorizationCode", "", "expired")
            body = self._issue(code["scope"])
            body["athlete"] = {"id": self.athlete["id"], "resource_state": 2, **self.athlete}
            return _json(body)
        if grant == "refresh_token":
            old = self.refresh_tokens.pop(params.get("refresh_token", ""), None)
            if old is None:
                return _fault(400, "Bad Request", "RefreshToken", "refresh_token", "invalid")
            return _json(self._issue(old["scope"]))
        return _fault(400, "Bad Request", "grant_type", "", "invalid")

    def _deauthorize_route(self, request: Request) -> Response:
        token = self._token_of(request) or self._params(request).get("access_token")
        if token not in self.tokens:
            return _fault(401, "Authorization Error", "Athlete", "access_token", "invalid")
        self.tokens.clear()
        self.refresh_tokens.clear()
        return _json({"access_token": token})

    # -- the API --------------------------------------------------------------------------

    @staticmethod
    def _token_of(request: Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value:
            return value
        return request.args.get("access_token")

    def _scope(self, request: Request) -> set[str] | Response:
        token = self.tokens.get(self._token_of(request) or "")
        if token is None or token["expires_at"] <= self._clock():
            return _fault(401, "Authorization Error", "Athlete", "access_token", "invalid")
        return set(str(token["scope"]).split(","))

    def _route(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == "/oauth/authorize" and method == "GET":
            return self._authorize(request)
        if path == "/oauth/token" and method == "POST":
            return self._token(request)
        if path in ("/oauth/deauthorize", "/api/v3/oauth/deauthorize") and method == "POST":
            return self._deauthorize_route(request)
        scope = self._scope(request)
        if isinstance(scope, Response):
            return scope
        can_read = bool(scope & {"activity:read", "activity:read_all"})
        if path == "/api/v3/athlete" and method == "GET":
            athlete = {**self.athlete, "resource_state": 2}
            if "profile:read_all" in scope:
                athlete.update(resource_state=3, bikes=self.bikes, shoes=self.shoes)
            return _json(athlete)
        if path == "/api/v3/athlete/activities" and method == "GET":
            if not can_read:
                return _fault(
                    401, "Authorization Error", "AccessToken", "activity:read_permission", "missing"
                )
            return self._list(request, private="activity:read_all" in scope)
        if match := re.fullmatch(r"/api/v3/activities/(\d+)", path):
            activity = self.activities.get(match.group(1))
            if method == "PUT" and "activity:write" not in scope:
                return _fault(
                    401, "Authorization Error", "AccessToken", "write_permission", "missing"
                )
            if activity is None:
                return _fault(404, "Resource Not Found", "Activity", "", "not found")
            if method == "GET":
                if not can_read:
                    return _fault(
                        401,
                        "Authorization Error",
                        "AccessToken",
                        "activity:read_permission",
                        "missing",
                    )
                return _json(self._detail(activity))
            if method == "PUT":
                return self._update(request, activity)
        if match := re.fullmatch(r"/api/v3/gear/([^/]+)", path):
            gear = self._gear(match.group(1))
            if gear is None:
                return _fault(404, "Resource Not Found", "Gear", "", "not found")
            return _json({**gear, "resource_state": 3})
        if path == "/api/v3/uploads" and method == "POST":
            if "activity:write" not in scope:
                return _fault(
                    401, "Authorization Error", "AccessToken", "write_permission", "missing"
                )
            return self._upload(request)
        if match := re.fullmatch(r"/api/v3/uploads/(\d+)", path):
            upload = self.uploads.get(int(match.group(1)))
            if upload is None:
                return _fault(404, "Resource Not Found", "Upload", "", "not found")
            return _json(self._poll(upload))
        return _fault(404, "Resource Not Found", "Path", "", "not found")

    def _gear(self, gear_id: str) -> dict[str, Any] | None:
        for gear in [*self.bikes, *self.shoes, *self.retired_gear]:
            if str(gear.get("id")) == gear_id:
                return gear
        return None

    def _summary(self, activity: dict[str, Any]) -> dict[str, Any]:
        shown = {k: v for k, v in activity.items() if k not in _SUMMARY_DROPS}
        shown["resource_state"] = 2
        return shown

    def _detail(self, activity: dict[str, Any]) -> dict[str, Any]:
        shown = dict(activity)
        shown["resource_state"] = 3
        gear = self._gear(str(activity.get("gear_id"))) if activity.get("gear_id") else None
        shown["gear"] = {**gear, "resource_state": 2} if gear else None
        return shown

    def _list(self, request: Request, *, private: bool) -> Response:
        args = request.args
        after = float(args["after"]) if args.get("after") else None
        before = float(args["before"]) if args.get("before") else None
        page = max(int(args.get("page") or 1), 1)
        per_page = min(max(int(args.get("per_page") or 30), 1), 200)
        chosen = []
        for activity in self.activities.values():
            if not private and activity.get("visibility") == "only_me":
                continue
            start = _epoch(activity["start_date"].replace("Z", "+00:00"))
            if after is not None and start <= after:
                continue
            if before is not None and start >= before:
                continue
            chosen.append(activity)
        chosen.sort(key=lambda a: (a["start_date"], int(a["id"])), reverse=True)
        window = chosen[(page - 1) * per_page : page * per_page]
        return _json([self._summary(a) for a in window])

    def _update(self, request: Request, activity: dict[str, Any]) -> Response:
        changes: dict[str, Any] = {}
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            changes.update(body)
        changes.update({k: v for k, v in request.args.items() if k != "access_token"})
        allowed = {"name", "description", "gear_id", "commute", "trainer", "hide_from_home",
                   "sport_type", "type"}  # fmt: skip
        for key, value in changes.items():
            if key not in allowed:
                continue
            if key == "gear_id":
                if value in (None, "", "none"):
                    activity["gear_id"] = None
                    continue
                if self._gear(str(value)) is None:
                    return _fault(400, "Bad Request", "Activity", "gear_id", "invalid")
            activity[key] = value
        return _json(self._detail(activity))

    # -- uploads --------------------------------------------------------------------------

    def _upload(self, request: Request) -> Response:
        params = {**dict(request.args), **dict(request.form)}
        upload = request.files.get("file")
        data = upload.read() if upload is not None else b""
        data_type = params.get("data_type", "")
        self._serial += 1
        upload_id = 16_486_000 + self._serial
        record: dict[str, Any] = {
            "id": upload_id,
            "id_str": str(upload_id),
            "external_id": params.get("external_id") or (upload.filename if upload else None),
            "error": None,
            "status": "Your activity is still being processed.",
            "activity_id": None,
        }
        if data_type not in ("fit", "fit.gz", "tcx", "tcx.gz", "gpx", "gpx.gz") or not data:
            record.update(
                error="Improperly formatted data.",
                status="There was an error processing your activity.",
            )
            return _json(record, 400)
        digest = hashlib.sha256(data).hexdigest()
        duplicate_of = self.file_hashes.get(digest)
        if duplicate_of is None and params.get("external_id"):
            duplicate_of = next(
                (
                    str(a["id"])
                    for a in self.activities.values()
                    if a.get("external_id") == params["external_id"]
                ),
                None,
            )
        record["_pending"] = {
            "polls": int(self.polls_until_ready),
            "data": data,
            "digest": digest,
            "name": params.get("name"),
            "duplicate_of": duplicate_of,
            "filename": upload.filename if upload else "upload",
        }
        self.uploads[upload_id] = record
        if duplicate_of is not None and self.duplicate_mode == "immediate":
            self._fail_duplicate(record)
            return _json(self._public(record), 400)
        return _json(self._public(record), 201)

    @staticmethod
    def _public(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if not k.startswith("_")}

    def _fail_duplicate(self, record: dict[str, Any]) -> None:
        pending = record.pop("_pending")
        target = pending["duplicate_of"]
        if self.duplicate_html:
            link = f"<a href='/activities/{target}' target='_blank'>Morning Ride</a>"
            error = f"{pending['filename']} duplicate of {link}"
        else:
            error = f"{pending['filename']} duplicate of activity {target}"
        record.update(error=error, status="There was an error processing your activity.")

    def _poll(self, record: dict[str, Any]) -> dict[str, Any]:
        pending = record.get("_pending")
        if pending is None:
            return self._public(record)
        pending["polls"] -= 1
        if pending["polls"] > 0:
            return self._public(record)
        if pending["duplicate_of"] is not None:
            self._fail_duplicate(record)
            return self._public(record)
        record.pop("_pending")
        activity = self._activity_from_file(pending, record)
        self.activities[str(activity["id"])] = activity
        self.file_hashes[pending["digest"]] = str(activity["id"])
        record.update(status="Your activity is ready.", activity_id=activity["id"])
        return self._public(record)

    def _activity_from_file(
        self, pending: dict[str, Any], record: dict[str, Any]
    ) -> dict[str, Any]:
        self._serial += 1
        activity_id = 14_560_000_000 + self._serial
        start = self._clock().replace(microsecond=0)
        fields: dict[str, Any] = {}
        try:
            summary = decode(io.BytesIO(pending["data"]), pending["filename"])[0]
        except Exception:  # not a file the decoder reads: Strava would still make something
            summary = None
        if summary is not None:
            start = summary.start_utc
            sport_type = _SPORT_TYPES.get(summary.sport, "Workout")
            fields = {
                "type": sport_type,
                "sport_type": sport_type,
                "elapsed_time": int(summary.elapsed_s or 0),
                "moving_time": int(summary.moving_s or summary.elapsed_s or 0),
                "distance": float(summary.distance_m or 0.0),
            }
        return strava_activity(
            activity_id,
            start,
            "UTC",
            name=pending["name"] or "Morning Activity",
            external_id=record["external_id"],
            upload_id=record["id"],
            device_name=None,
            **fields,
        )
