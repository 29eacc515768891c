"""A stateful fake of Garmin Connect's API tier on 127.0.0.1 (provider-apis.md §2, §6.3).

It speaks the routes garminconnect 0.3.x sends to `connectapi.garmin.com` and the DI token
refresh it sends to `diauth.garmin.com`: the activity list filtered by local start dates
(inclusive), newest first, paged by `start`/`limit` and ending with an empty page; one activity
in the detail shape (`activityTypeDTO`, `summaryDTO`); renames (204); devices; gear of a profile
or of an activity; gear link/unlink (404 for unknown or retired gear); uploads de-duplicated by
file hash (409 naming the existing activity); original files as a zip holding one `.fit`.

Auth is `Authorization: Bearer <JWT>`: an access token the fake issued (or was seeded with) whose
`exp` has not passed, else 401. A refresh (form `grant_type=refresh_token`) issues a new access
token and rotates the refresh token; an unknown refresh token gets 400 `invalid_grant`.

Control API (never recorded as traffic):
  POST /__fake__/reset                      forget everything
  POST /__fake__/seed                       {"access_tokens", "refresh_tokens": {token: client},
                                             "profile", "devices", "gear", "activities",
                                             "links": {activity id: [gear uuid]},
                                             "originals": {activity id: base64 file},
                                             "zips": {activity id: base64 zip as sent},
                                             "revoke": [access tokens to forget]}
  POST /__fake__/fail-next                  {"status", "headers", "body", "method", "path"
                                             (regex), "after", "times", "delay"}
  GET  /__fake__/requests                   every request: method, path, query, auth, json,
                                             form (grant_type only), file
"""

import base64
import hashlib
import io
import json
import re
import time
import zipfile
from datetime import date, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes.service import FakeService
from tracekit.files.decode import decode
from tracekit.files.summary import ActivityFileError

CLIENT_ID = "GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2"
PROFILE_NUMBER = 81234567
FAR_FUTURE = 4_102_444_800  # 2100-01-01: a token that never needs refreshing during a test
_FIRST_UPLOAD_ID = 21_000_000_000
_TIME = "%Y-%m-%d %H:%M:%S"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def make_jwt(*, exp: int = FAR_FUTURE, client_id: str = CLIENT_ID, jti: str = "t1") -> str:
    """A JWT shaped like Garmin's DI access token (signature not checked by the client)."""
    header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps({"exp": exp, "client_id": client_id, "jti": jti}).encode())
    return f"{header}.{payload}.{_b64url(b'not-a-real-signature')}"


def token_store(access: str, refresh: str = "refresh-1", client_id: str = CLIENT_ID) -> str:
    """What garminconnect's `client.dumps()` returns."""
    return json.dumps({"di_token": access, "di_refresh_token": refresh, "di_client_id": client_id})


def _jwt_exp(token: str) -> float | None:
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    exp = data.get("exp") if isinstance(data, dict) else None
    return float(exp) if isinstance(exp, int | float) else None


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status=status, mimetype="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"message": message, "error": message}, status)


def _detail_time(value: str | None) -> str | None:
    """A list time ("2026-04-21 06:30:00") as the detail endpoint writes it (with "T", ".0")."""
    return value.replace(" ", "T") + ".0" if value else None


class GarminFake(FakeService):
    """Start with `with GarminFake() as fake:`; `fake.url` is the base URL of both tiers."""

    def _reset_state(self) -> None:
        self.access_tokens: set[str] = set()
        self.refresh_tokens: dict[str, str] = {}
        self.profile: dict[str, Any] = {
            "displayName": "runner42",
            "fullName": "Ada Runner",
            "userName": "ada@example.org",
            "profileId": PROFILE_NUMBER,
        }
        self.devices: list[dict[str, Any]] = []
        self.gear: dict[str, dict[str, Any]] = {}
        self.activities: dict[int, dict[str, Any]] = {}
        self.links: dict[int, list[str]] = {}
        self.originals: dict[int, bytes] = {}
        self.zips: dict[int, bytes] = {}
        self.upload_hashes: dict[str, int] = {}
        self._issued = 0
        self._next_id = _FIRST_UPLOAD_ID

    # -- control helpers (over HTTP) ------------------------------------------------------

    def api_requests(self) -> list[dict[str, Any]]:
        """The requests to the API tier (token refreshes left out)."""
        return [r for r in self.requests() if not r["path"].startswith("/di-oauth2-service")]

    # -- the service hooks ----------------------------------------------------------------

    def _seed(self, state: dict[str, Any]) -> None:
        self.access_tokens.update(state.get("access_tokens", []))
        self.access_tokens.difference_update(state.get("revoke", []))
        self.refresh_tokens.update(state.get("refresh_tokens", {}))
        if "profile" in state:
            self.profile.update(state["profile"])
        self.devices.extend(state.get("devices", []))
        for item in state.get("gear", []):
            self.gear[str(item["uuid"])] = dict(item)
        for item in state.get("activities", []):
            self.activities[int(item["activityId"])] = dict(item)
        for activity_id, uuids in state.get("links", {}).items():
            self.links[int(activity_id)] = list(uuids)
        for activity_id, encoded in state.get("originals", {}).items():
            data = base64.b64decode(encoded)
            self.originals[int(activity_id)] = data
            self.upload_hashes[hashlib.sha256(data).hexdigest()] = int(activity_id)
        for activity_id, encoded in state.get("zips", {}).items():
            self.zips[int(activity_id)] = base64.b64decode(encoded)

    def _control_not_found(self, request: Request) -> Response:
        return _error(404, "Not Found")

    def _recorded_json(self, request: Request) -> Any:
        return request.get_json(silent=True) if request.is_json else None

    def _record_extra(self, request: Request) -> dict[str, Any]:
        extra: dict[str, Any] = {"form": None, "file": None}
        if request.mimetype == "application/x-www-form-urlencoded":
            extra["form"] = {"grant_type": request.form.get("grant_type")}
        upload = request.files.get("file")
        if upload is not None:
            extra["file"] = upload.filename
        return extra

    # -- the API --------------------------------------------------------------------------

    def _issue(self) -> str:
        self._issued += 1
        token = make_jwt(jti=f"issued-{self._issued}")
        self.access_tokens.add(token)
        return token

    def _refresh(self, request: Request) -> Response:
        if request.form.get("grant_type") != "refresh_token":
            return _json({"error": "unsupported_grant_type"}, 400)
        old = request.form.get("refresh_token", "")
        client = self.refresh_tokens.pop(old, None)
        if client is None or client != request.form.get("client_id"):
            return _json({"error": "invalid_grant"}, 400)
        new_refresh = f"refresh-rotated-{self._issued + 1}"
        self.refresh_tokens[new_refresh] = client
        return _json(
            {
                "access_token": self._issue(),
                "refresh_token": new_refresh,
                "token_type": "bearer",
                "expires_in": 3600,
            }
        )

    def _authorised(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token not in self.access_tokens:
            return False
        exp = _jwt_exp(token)
        return exp is not None and exp > time.time()

    def _route(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == "/di-oauth2-service/oauth/token" and method == "POST":
            return self._refresh(request)
        if not self._authorised(request):
            return _error(401, "Unauthorized")
        if path == "/userprofile-service/socialProfile":
            return _json(self.profile)
        if path == "/userprofile-service/userprofile/user-settings":
            return _json({"userData": {"measurementSystem": "metric"}})
        if path == "/activitylist-service/activities/search/activities" and method == "GET":
            return self._list(request)
        if match := re.fullmatch(r"/activity-service/activity/(\d+)", path):
            activity = self.activities.get(int(match.group(1)))
            if activity is None:
                return _error(404, "Activity not found")
            if method == "GET":
                return _json(self._detail(activity))
            if method == "PUT":
                return self._update(request, activity)
        if path == "/device-service/deviceregistration/devices":
            return _json(self.devices)
        if path == "/device-service/deviceservice/mylastused":
            return _json({"userProfileNumber": PROFILE_NUMBER, "lastUsedDeviceName": "Edge"})
        if path == "/gear-service/gear/filterGear":
            return self._filter_gear(request)
        linking = re.fullmatch(r"/gear-service/gear/(link|unlink)/([^/]+)/activity/(\d+)", path)
        if linking and method == "PUT":
            return self._link(linking.group(1), linking.group(2), int(linking.group(3)))
        if re.fullmatch(r"/upload-service/upload(/(fit|tcx|gpx))?", path) and method == "POST":
            return self._upload(request)
        if match := re.fullmatch(r"/download-service/files/activity/(\d+)", path):
            return self._original(int(match.group(1)))
        return _error(404, "Not Found")

    def _list(self, request: Request) -> Response:
        try:
            first = date.fromisoformat(request.args.get("startDate", "1900-01-01"))
            last = date.fromisoformat(request.args.get("endDate", "2999-12-31"))
            start = int(request.args.get("start", "0"))
            limit = min(int(request.args.get("limit", "20")), 1000)
        except ValueError:
            return _error(400, "Invalid request parameters")
        chosen = [
            a
            for a in self.activities.values()
            if first <= datetime.strptime(a["startTimeLocal"], _TIME).date() <= last
        ]
        chosen.sort(key=lambda a: (a["startTimeLocal"], a["activityId"]), reverse=True)
        return _json(chosen[start : start + limit])

    def _detail(self, activity: dict[str, Any]) -> dict[str, Any]:
        """GET /activity-service/activity/{id}: the same activity in the detail shape."""
        summary_keys = (
            "distance",
            "duration",
            "movingDuration",
            "elapsedDuration",
            "elevationGain",
            "averageHR",
            "maxHR",
            "calories",
            "startLatitude",
            "startLongitude",
        )
        detail: dict[str, Any] = {
            "activityId": activity["activityId"],
            "activityName": activity.get("activityName"),
            "description": activity.get("description"),
            "activityTypeDTO": activity.get("activityType"),
            "summaryDTO": {
                "startTimeLocal": _detail_time(activity.get("startTimeLocal")),
                "startTimeGMT": _detail_time(activity.get("startTimeGMT")),
                **{k: activity[k] for k in summary_keys if k in activity},
            },
            "metadataDTO": {"deviceMetaDataDTO": {"deviceId": activity.get("deviceId")}},
        }
        return detail

    def _update(self, request: Request, activity: dict[str, Any]) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or str(body.get("activityId")) != str(activity["activityId"]):
            return _error(400, "activityId does not match")
        if "activityName" in body:
            activity["activityName"] = body["activityName"]
        if "description" in body:
            activity["description"] = body["description"]
        if isinstance(body.get("activityTypeDTO"), dict):
            activity["activityType"] = body["activityTypeDTO"]
        return Response(status=204)

    def _filter_gear(self, request: Request) -> Response:
        if "activityId" in request.args:
            linked = self.links.get(int(request.args["activityId"]), [])
            return _json([self.gear[uuid] for uuid in linked if uuid in self.gear])
        if request.args.get("userProfilePk") == str(PROFILE_NUMBER):
            return _json(list(self.gear.values()))
        return _json([])

    def _link(self, action: str, uuid: str, activity_id: int) -> Response:
        gear = self.gear.get(uuid)
        if gear is None or activity_id not in self.activities:
            return _error(404, "Gear or activity not found")
        linked = self.links.setdefault(activity_id, [])
        if action == "link":
            if gear.get("gearStatusName") == "retired":
                return _error(404, "Gear is retired")
            if uuid not in linked:
                linked.append(uuid)
        elif uuid in linked:
            linked.remove(uuid)
        return _json(gear)

    def _upload(self, request: Request) -> Response:
        upload = request.files.get("file")
        if upload is None:
            return _error(400, "file is required")
        data = upload.read()
        name = upload.filename or "upload"
        digest = hashlib.sha256(data).hexdigest()
        result: dict[str, Any] = {
            "uploadId": self._next_id,
            "fileName": name,
            "successes": [],
            "failures": [],
        }
        if digest in self.upload_hashes:
            message = {"code": 202, "content": "Duplicate Activity."}
            result["failures"] = [
                {
                    "internalId": self.upload_hashes[digest],
                    "externalId": None,
                    "messages": [message],
                }
            ]
            return _json({"detailedImportResult": result}, 409)
        try:
            summary = decode(io.BytesIO(data), name)[0]
        except ActivityFileError as error:
            result["failures"] = [{"messages": [{"code": 200, "content": str(error)}]}]
            return _json({"detailedImportResult": result}, 400)
        self._next_id += 1
        activity_id = self._next_id
        start = summary.start_utc.replace(tzinfo=None)
        self.activities[activity_id] = {
            "activityId": activity_id,
            "activityName": "Uploaded activity",
            "startTimeLocal": (summary.start_local or start).strftime(_TIME),
            "startTimeGMT": start.strftime(_TIME),
            "activityType": {"typeId": 2, "typeKey": "cycling", "parentTypeId": 17},
            "duration": summary.elapsed_s,
            "elapsedDuration": summary.elapsed_s,
            "distance": summary.distance_m,
        }
        self.originals[activity_id] = data
        self.upload_hashes[digest] = activity_id
        result["successes"] = [{"internalId": activity_id, "externalId": name, "messages": None}]
        return _json({"detailedImportResult": result}, 201)

    def _original(self, activity_id: int) -> Response:
        if activity_id in self.zips:
            return Response(self.zips[activity_id], mimetype="application/x-zip-compressed")
        data = self.originals.get(activity_id)
        if data is None or activity_id not in self.activities:
            return _error(404, "No original file")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{activity_id}_ACTIVITY.fit", data)
        return Response(buffer.getvalue(), mimetype="application/x-zip-compressed")
