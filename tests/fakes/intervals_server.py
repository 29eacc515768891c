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
import threading
from collections.abc import Iterable
from datetime import date, datetime, time
from types import TracebackType
from typing import Any, Self

import httpx
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CONTROL = "/__fake__/"


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


class IntervalsFake:
    """Start with `with IntervalsFake() as fake:`; `fake.url` is the base URL to use."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._release = threading.Event()
        self._reset()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._control = httpx.Client(base_url=self.url + CONTROL.rstrip("/"), timeout=10)

    def _reset(self) -> None:
        self.athlete_id = "i1000"
        self.api_keys: set[str] = set()
        self.tokens: set[str] = set()
        self.activities: dict[str, dict[str, Any]] = {}
        self.gear: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.upload_hashes: dict[str, str] = {}
        self.extra_headers: dict[str, str] = {}
        self.failures: list[dict[str, Any]] = []
        self.recorded: list[dict[str, Any]] = []
        self._next_id = 900_000

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release.set()  # let any deliberately slow answer finish now
        self._control.close()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # -- control helpers (over HTTP) ------------------------------------------------------

    def reset(self) -> None:
        self._control.post("/reset").raise_for_status()

    def seed(self, **state: Any) -> None:
        self._control.post("/seed", json=state).raise_for_status()

    def fail_next(
        self,
        status: int | None = None,
        *,
        headers: dict[str, str] | None = None,
        body: Any = None,
        method: str | None = None,
        path: str | None = None,
        times: int = 1,
        delay: float | None = None,
        after: int = 0,
    ) -> None:
        rule = {
            "after": after,
            "status": status,
            "headers": headers or {},
            "body": body,
            "method": method,
            "path": path,
            "times": times,
            "delay": delay,
        }
        self._control.post("/fail-next", json=rule).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        response = self._control.get("/requests")
        response.raise_for_status()
        recorded: list[dict[str, Any]] = response.json()
        return recorded

    # -- WSGI -----------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith(CONTROL):
            response = self._control_api(request)
        else:
            response = self._api(request)
        return response(environ, start_response)  # type: ignore[no-any-return]

    def _control_api(self, request: Request) -> Response:
        action = request.path.removeprefix(CONTROL)
        with self._lock:
            if action == "reset":
                self._reset()
            elif action == "seed":
                self._seed(request.get_json(force=True) or {})
            elif action == "fail-next":
                self.failures.append(request.get_json(force=True))
            elif action == "requests":
                return _json(list(self.recorded))
            else:
                return _error(404, "Not Found", request.path)
        return _json({"ok": True})

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

    def _record(self, request: Request) -> None:
        auth = request.headers.get("Authorization", "")
        scheme = auth.split(" ", 1)[0].lower() if auth else None
        body: Any = None
        if request.mimetype == "application/json":
            body = request.get_json(silent=True)
        self.recorded.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.args),
                "auth": scheme,
                "json": body,
            }
        )

    def _failure(self, request: Request) -> dict[str, Any] | None:
        for rule in self.failures:
            if rule.get("method") and rule["method"].upper() != request.method:
                continue
            if rule.get("path") and not re.search(rule["path"], request.path):
                continue
            if int(rule.get("after") or 0) > 0:
                rule["after"] = int(rule["after"]) - 1
                return None
            rule["times"] = int(rule.get("times") or 1) - 1
            if rule["times"] <= 0:
                self.failures.remove(rule)
            return rule
        return None

    def _api(self, request: Request) -> Response:
        with self._lock:
            self._record(request)
            rule = self._failure(request)
        if rule is not None:
            if rule.get("delay"):
                self._release.wait(float(rule["delay"]))
            if rule.get("status") is not None:
                body = rule.get("body")
                text = body if isinstance(body, str) else json.dumps(body or {})
                return Response(text, status=int(rule["status"]), headers=rule.get("headers") or {})
        with self._lock:
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
