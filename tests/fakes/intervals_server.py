"""A stateful fake intervals.icu on 127.0.0.1 (shared/reference/provider-apis.md §4, §6.5).

It speaks the documented routes, status codes and bodies: the activity list filtered by local
`oldest`/`newest` (inclusive, newest first, `limit`), Strava-sourced rows as hidden stubs, one
activity, partial PUT updates, gear, uploads de-duplicated by file hash (201 new, 200 all
duplicates), original files. Auth is Basic `API_KEY:<key>` or Bearer; a wrong scheme is 403,
an unknown key 401; athlete id `0` means the caller.

Control API (never recorded as traffic):
  POST /__fake__/reset                      forget everything
  POST /__fake__/seed                       {"athlete_id", "api_keys", "tokens", "activities",
                                             "gear", "files": {id: base64}, "headers": {...}}
  POST /__fake__/fail-next                  {"status", "headers", "body", "method", "path"
                                             (regex), "after" (matching requests to let through
                                             first), "times", "delay" (seconds before answering;
                                             without "status" the normal answer follows)}
  GET  /__fake__/requests                   every API request: method, path, query, auth, json
The Python helpers below call the control API over HTTP.
"""

import base64
import hashlib
import json
import re
from datetime import date, datetime, time
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes.service import FakeService


def _error(status: int, message: str, path: str) -> Response:
    if status == 404:
        body: dict[str, Any] = {
            "timestamp": "2026-01-01T00:00:00.000+00:00",
            "status": 404,
            "error": "Not Found",
            "path": path,
        }
    else:
        body = {"status": status, "error": message}
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status=status, mimetype="application/json")


def _local(value: str, *, end_of_day: bool) -> datetime:
    """`oldest`/`newest`: a local date or date-time (a bare date covers the whole day)."""
    if len(value) == 10:
        day = date.fromisoformat(value)
        return datetime.combine(day, time.max if end_of_day else time.min)
    return datetime.fromisoformat(value).replace(tzinfo=None)


class IntervalsFake(FakeService):
    """Start with `with IntervalsFake() as fake:`; `fake.url` is the base URL to use."""

    def _reset_state(self) -> None:
        self.athlete_id = "i1000"
        self.api_keys: set[str] = set()
        self.tokens: set[str] = set()
        self.activities: dict[str, dict[str, Any]] = {}
        self.gear: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.upload_hashes: dict[str, str] = {}
        self.extra_headers: dict[str, str] = {}
        self._next_id = 900_000

    # -- the service hooks ----------------------------------------------------------------

    def _seed(self, state: dict[str, Any]) -> None:
        if "athlete_id" in state:
            self.athlete_id = str(state["athlete_id"])
        self.api_keys.update(state.get("api_keys", []))
        self.tokens.update(state.get("tokens", []))
        for item in state.get("activities", []):
            activity = dict(item)
            activity.setdefault("icu_athlete_id", self.athlete_id)
            self.activities[str(activity["id"])] = activity
        for item in state.get("gear", []):
            self.gear[str(item["id"])] = dict(item)
        for activity_id, encoded in state.get("files", {}).items():
            self.files[str(activity_id)] = base64.b64decode(encoded)
        self.extra_headers.update(state.get("headers", {}))

    def _control_not_found(self, request: Request) -> Response:
        return _error(404, "Not Found", request.path)

    def _answer(self, request: Request, headers: dict[str, str]) -> Response:
        response = self._route(request)
        for key, value in self.extra_headers.items():
            response.headers[key] = value
        return response

    # -- the API --------------------------------------------------------------------------

    def _authorised(self, request: Request) -> Response | None:
        auth = request.headers.get("Authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, key = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return _error(403, "Access denied", request.path)
            if user != "API_KEY":
                return _error(403, "Access denied", request.path)
            if key not in self.api_keys:
                return _error(401, "Unauthorized", request.path)
            return None
        if scheme.lower() == "bearer":
            if value not in self.tokens:
                return _error(401, "Missing or invalid access token", request.path)
            return None
        if auth:
            return _error(403, "Access denied", request.path)
        return _error(401, "Unauthorized", request.path)

    def _route(self, request: Request) -> Response:
        refused = self._authorised(request)
        if refused is not None:
            return refused
        path, method = request.path, request.method
        if match := re.fullmatch(r"/api/v1/athlete/([^/]+)/activities", path):
            if match.group(1) not in ("0", self.athlete_id):
                return _error(403, "Access denied", path)
            if method == "GET":
                return self._list(request)
            if method == "POST":
                return self._upload(request)
        if match := re.fullmatch(r"/api/v1/athlete/([^/]+)/gear", path):
            if match.group(1) not in ("0", self.athlete_id):
                return _error(403, "Access denied", path)
            if method == "GET":
                return _json(list(self.gear.values()))
        if match := re.fullmatch(r"/api/v1/activity/([^/]+)", path):
            activity = self.activities.get(match.group(1))
            if activity is None:
                return _error(404, "Not Found", path)
            if method == "GET":
                return _json(self._visible(activity, in_list=False))
            if method == "PUT":
                return self._update(request, activity)
        if match := re.fullmatch(r"/api/v1/activity/([^/]+)/file", path):
            activity = self.activities.get(match.group(1))
            if activity is None:
                return _error(404, "Not Found", path)
            if activity.get("source") == "STRAVA":
                return _error(422, "Strava activities not supported", path)
            data = self.files.get(match.group(1))
            if data is None:
                return _error(404, "Not Found", path)
            return Response(data, mimetype="application/octet-stream")
        return _error(404, "Not Found", path)

    def _visible(self, activity: dict[str, Any], *, in_list: bool) -> dict[str, Any]:
        if activity.get("source") == "STRAVA":
            return {
                "id": activity["id"],
                "icu_athlete_id": activity.get("icu_athlete_id"),
                "start_date_local": activity.get("start_date_local"),
                "source": "STRAVA",
                "_note": "STRAVA activities are not available via the API",
            }
        shown = dict(activity)
        gear = shown.get("gear")
        if isinstance(gear, dict):
            known = self.gear.get(str(gear.get("id")))
            name = None if in_list else (known or {}).get("name")
            shown["gear"] = {**gear, "name": name}
        return shown

    def _list(self, request: Request) -> Response:
        oldest_raw = request.args.get("oldest")
        if not oldest_raw:
            return _error(422, "oldest is required", request.path)
        try:
            oldest = _local(oldest_raw, end_of_day=False)
            newest_raw = request.args.get("newest")
            newest = _local(newest_raw, end_of_day=True) if newest_raw else datetime.max
        except ValueError:
            return _error(422, "bad date", request.path)
        chosen = [
            a
            for a in self.activities.values()
            if oldest <= datetime.fromisoformat(a["start_date_local"]) <= newest
        ]
        chosen.sort(key=lambda a: (a["start_date_local"], str(a["id"])), reverse=True)
        limit = request.args.get("limit")
        if limit:
            chosen = chosen[: int(limit)]
        return _json([self._visible(a, in_list=True) for a in chosen])

    def _update(self, request: Request, activity: dict[str, Any]) -> Response:
        if activity.get("source") == "STRAVA":
            return _error(422, "Strava activities cannot be updated", request.path)
        changes = request.get_json(silent=True)
        if not isinstance(changes, dict):
            return _error(422, "Expected a JSON object", request.path)
        for key, value in changes.items():
            if key == "gear" and isinstance(value, dict):
                if str(value.get("id")) not in self.gear:
                    return _error(422, "Unknown gear", request.path)
                activity["gear"] = {"id": str(value["id"])}
            else:
                activity[key] = value
        return _json(self._visible(activity, in_list=False))

    def _upload(self, request: Request) -> Response:
        upload = request.files.get("file")
        if upload is None:
            return _error(422, "file is required", request.path)
        data = upload.read()
        digest = hashlib.sha256(data).hexdigest()
        if digest in self.upload_hashes:
            existing = self.upload_hashes[digest]
            body = {
                "icu_athlete_id": self.athlete_id,
                "id": existing,
                "activities": [{"icu_athlete_id": self.athlete_id, "id": existing}],
            }
            return _json(body, 200)
        self._next_id += 1
        new_id = f"i{self._next_id}"
        self.activities[new_id] = {
            "id": new_id,
            "icu_athlete_id": self.athlete_id,
            "name": request.args.get("name") or upload.filename,
            "type": "Ride",
            "start_date_local": "2026-01-01T08:00:00",
            "start_date": "2026-01-01T08:00:00Z",
            "timezone": "UTC",
            "external_id": request.args.get("external_id"),
            "source": "UPLOAD",
        }
        self.files[new_id] = data
        self.upload_hashes[digest] = new_id
        body = {
            "icu_athlete_id": self.athlete_id,
            "id": new_id,
            "activities": [{"icu_athlete_id": self.athlete_id, "id": new_id}],
        }
        return _json(body, 201)
