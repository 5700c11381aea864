"""HTTP to `mloop server`: one pooled connection set, timeouts, retries, errors as mloop errors.

Retries (with exponential backoff and jitter, honouring `Retry-After`) happen only when the
request cannot have been applied or the server asks for them: connection failures, 429 and 503.
A 4xx is an answer, never retried. Every write of the API is idempotent, so a retry after a
connection dropped mid-answer changes nothing.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

import httpx

from mloop.errors import StorageError
from mloop.storage.rest.errors import error_from_response
from mloop.storage.rest.wire import (
    WireError,
    WirePool,
    WireResponse,
    WireTimeoutError,
    request_target,
)

RETRY_STATUSES = frozenset({429, 503})
# Failures where the request did not reach the application, or the connection died: safe to
# send again since every write is idempotent.
RETRY_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
    httpx.PoolTimeout,
)
JSON_HEADERS = {"content-type": "application/json"}
R = TypeVar("R", httpx.Response, WireResponse)


class Transport:
    """A thread-safe HTTP client of one server.

    Args:
        base_url: the server, e.g. `http://127.0.0.1:5000`.
        token: sent as `Authorization: Bearer TOKEN` when given.
        timeout_s: read timeout of one request.
        connect_timeout_s: time to establish a connection.
        max_retries: retries after the first attempt.
        backoff_s: the first retry's wait; it doubles each time (capped at 10 s).
        transport: an httpx transport to use instead of the network (tests, embedding).
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout_s: float = 60.0,
        connect_timeout_s: float = 5.0,
        max_retries: int = 5,
        backoff_s: float = 0.1,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s)
        self._max_retries = max_retries
        self._backoff_s = backoff_s
        self._transport = transport
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._client = self._new_client()
        self._wire = self._new_wire()

    def _headers(self) -> dict[str, str]:
        headers = {"user-agent": "mloop-client"}
        if self._token:
            headers["authorization"] = f"Bearer {self._token}"
        return headers

    def _new_wire(self) -> WirePool | None:
        """http.client keep-alive for JSON requests, where httpx adds nothing: http://, no proxy."""
        from urllib.request import getproxies  # loaded by httpx already

        proxies = getproxies()
        if (
            self._transport is not None
            or not self.base_url.startswith("http://")
            or proxies.get("http")
            or proxies.get("all")
        ):
            return None
        return WirePool(
            self.base_url,
            headers=self._headers(),
            timeout_s=self._timeout.read or 60.0,
            connect_timeout_s=self._timeout.connect or 5.0,
        )

    def _new_client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers=self._headers(),
            timeout=self._timeout,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
            transport=self._transport,
        )

    @property
    def client(self) -> httpx.Client:
        """The pooled client (a fresh one in a forked child: sockets are not shared)."""
        if os.getpid() != self._pid:
            self.after_fork()
        return self._client

    def after_fork(self) -> None:
        """In a forked child: drop the parent's connections without closing them under it."""
        with self._lock:
            if os.getpid() != self._pid:
                self._pid = os.getpid()
                self._client = self._new_client()
                self._wire = self._new_wire()

    def close(self) -> None:
        """Close every pooled connection."""
        self._client.close()
        if self._wire is not None:
            self._wire.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """Send a request and decode its JSON answer (None for 204).

        Raises:
            MloopError: the error class the server answered with.
            StorageError: the server could not be reached after the retries.
        """
        content = None if body is None else json.dumps(body, separators=(",", ":"))
        if os.getpid() != self._pid:
            self.after_fork()
        wire = self._wire
        if wire is not None:
            answer = self._send_wire(wire, method, path, content, params)
            return answer.json() if answer.status != 204 and answer.content else None
        headers = JSON_HEADERS if content is not None else None
        response = self.send(method, path, content=content, params=params, headers=headers)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def _send_wire(
        self,
        wire: WirePool,
        method: str,
        path: str,
        content: str | None,
        params: dict[str, Any] | None,
    ) -> WireResponse:
        """`send` over the keep-alive pool: the same retries, timeouts and errors."""
        target = request_target(path, params)
        body = None if content is None else content.encode("utf-8")
        return self._retrying(
            method,
            path,
            lambda: wire.request(method, target, body=body, content_type="application/json"),
            errors=(WireError,),
            timed_out=lambda exc: isinstance(exc, WireTimeoutError),
        )

    def send(
        self,
        method: str,
        path: str,
        *,
        content: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        retry: bool = True,
    ) -> httpx.Response:
        """Send a request with retries; return the (successful) response, read.

        `retry=False` sends it once (a streamed body cannot be sent again).

        Raises:
            MloopError: the error class the server answered with.
            StorageError: the server could not be reached after the retries.
        """
        return self._retrying(
            method,
            path,
            lambda: self.client.request(
                method, path, content=content, params=params, headers=headers
            ),
            errors=(*RETRY_ERRORS, httpx.TimeoutException),
            # Connect and pool timeouts are retried (nothing was sent); a read timeout is not.
            timed_out=lambda exc: not isinstance(exc, RETRY_ERRORS),
            retry=retry,
        )

    def _retrying(
        self,
        method: str,
        path: str,
        once: Callable[[], R],
        *,
        errors: tuple[type[Exception], ...],
        timed_out: Callable[[Exception], bool],
        retry: bool = True,
    ) -> R:
        """Run `once` (one request), retried on connection errors, 429 and 503, with backoff.

        Raises:
            MloopError: the error class the server answered with.
            StorageError: the server could not be reached after the retries, or did not answer
                in time.
        """
        attempt = 0 if retry else self._max_retries
        while True:
            try:
                answer = once()
            except errors as exc:
                if timed_out(exc):
                    raise StorageError(
                        f"the server at {self.base_url} did not answer {method} {path} in time "
                        f"({exc!r}); it may be overloaded"
                    ) from exc
                if attempt >= self._max_retries:
                    raise self._unreachable(exc) from exc
                self._wait(attempt, None)
            else:
                status = answer.status if isinstance(answer, WireResponse) else answer.status_code
                if status < 400:
                    return answer
                if status in RETRY_STATUSES and attempt < self._max_retries:
                    self._wait(attempt, answer.headers.get("retry-after"))
                else:
                    raise self._error(answer)
            attempt += 1

    @contextmanager
    def stream(
        self, method: str, path: str, *, params: dict[str, Any] | None = None
    ) -> Iterator[httpx.Response]:
        """A streamed answer (downloads); connection errors are retried before it starts.

        Raises:
            MloopError: the error class the server answered with.
        """
        attempt = 0
        while True:
            try:
                request = self.client.build_request(method, path, params=params)
                response = self.client.send(request, stream=True)
                break
            except RETRY_ERRORS as exc:
                if attempt >= self._max_retries:
                    raise self._unreachable(exc) from exc
                self._wait(attempt, None)
            attempt += 1
        try:
            if response.status_code >= 400:
                response.read()
                raise self._error(response)
            yield response
        finally:
            response.close()

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        delay = min(10.0, self._backoff_s * 2**attempt) * (0.5 + random.random() / 2)  # noqa: S311
        if retry_after is not None:
            with suppress(ValueError):  # an HTTP date instead of seconds: keep the backoff
                delay = max(delay, min(30.0, float(retry_after)))
        time.sleep(delay)

    def _unreachable(self, exc: Exception) -> StorageError:
        return StorageError(
            f"cannot reach the mloop server at {self.base_url} ({type(exc).__name__}: {exc}) "
            f"after {self._max_retries + 1} attempts; check that `mloop server` runs there and "
            "that MLOOP_TRACKING_URI is right"
        )

    def _error(self, response: httpx.Response | WireResponse) -> Exception:
        try:
            body = response.json()
        except ValueError:
            body = None
        status = response.status if isinstance(response, WireResponse) else response.status_code
        return error_from_response(status, body, url=self.base_url)
