"""The plumbing every fake provider server shares (intervals.icu, Garmin, RideWithGPS, Strava).

A `FakeService` runs a werkzeug server on 127.0.0.1 in a thread, answers the control API under
`/__fake__/` (reset, seed, fail-next, requests, plus any routes a fake adds) and sends everything
else through the recorded, fail-next aware API path. A fake supplies its state and its routes:

  _reset_state()                    its own state (failures and recorded requests are shared)
  _seed(state)                      apply a /seed body
  _route(request)                   answer one API request (under the lock)
  _control_extra(action)            a fake-specific control route, or None when unknown
  _control_not_found(request)       the 404 for an unknown control route
  _auth_scheme / _record_extra      what each recorded request says
  _before(request)                  headers worked out while recording (also on injected failures)
  _answer(request, headers)         the normal answer (default: `_route`)
"""

import json
import re
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Self

import httpx
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CONTROL = "/__fake__/"


def ok() -> Response:
    return Response(json.dumps({"ok": True}), mimetype="application/json")


class FakeService:
    """Start with `with SomeFake() as fake:`; `fake.url` is the base URL to use."""

    # The mimetype of an injected failure's answer (None: werkzeug's default, text/plain).
    failure_mimetype: str | None = None

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
        self._reset_state()
        self.failures: list[dict[str, Any]] = []
        self.recorded: list[dict[str, Any]] = []

    # -- hooks ----------------------------------------------------------------------------

    def _reset_state(self) -> None:
        raise NotImplementedError

    def _seed(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def _route(self, request: Request) -> Response:
        raise NotImplementedError

    def _control_extra(self, action: str) -> Response | None:
        """A fake-specific control route (under the lock); None when `action` is unknown."""
        return None

    def _control_not_found(self, request: Request) -> Response:
        return Response(json.dumps({"error": "Not Found"}), 404, mimetype="application/json")

    def _auth_scheme(self, request: Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        return auth.split(" ", 1)[0].lower() if auth else None

    def _recorded_json(self, request: Request) -> Any:
        if request.mimetype == "application/json":
            return request.get_json(silent=True)
        return None

    def _record_extra(self, request: Request) -> dict[str, Any]:
        return {}

    def _before(self, request: Request) -> dict[str, str]:
        """Headers worked out as the request is recorded; they go on every answer to it."""
        return {}

    def _answer(self, request: Request, headers: dict[str, str]) -> Response:
        """The normal answer (under the lock), given the headers `_before` worked out."""
        return self._route(request)

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
        body: Iterable[bytes] = response(environ, start_response)
        return body

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
                return Response(json.dumps(list(self.recorded)), mimetype="application/json")
            else:
                extra = self._control_extra(action)
                return extra if extra is not None else self._control_not_found(request)
        return ok()

    def _record(self, request: Request) -> None:
        entry: dict[str, Any] = {
            "method": request.method,
            "path": request.path,
            "query": dict(request.args),
            "auth": self._auth_scheme(request),
            "json": self._recorded_json(request),
        }
        entry.update(self._record_extra(request))
        self.recorded.append(entry)

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
            headers = self._before(request)
        if rule is not None:
            if rule.get("delay"):
                self._release.wait(float(rule["delay"]))
            if rule.get("status") is not None:
                body = rule.get("body")
                text = body if isinstance(body, str) else json.dumps(body or {})
                return Response(
                    text,
                    status=int(rule["status"]),
                    headers={**headers, **(rule.get("headers") or {})},
                    mimetype=self.failure_mimetype,
                )
        with self._lock:
            return self._answer(request, headers)
