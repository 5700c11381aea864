"""Plain HTTP/1.1 on pooled keep-alive connections, for the client's small JSON requests.

httpx spends about 0.3-0.4 ms of Python on each request (URL merging, header and cookie models,
its HTTP state machine): on loopback that is more than the server takes to handle a small
write, and a W4 run is two such requests. `WirePool` keeps a few of the standard library's
`http.client.HTTPConnection` objects alive and sends each request on one of them, which costs
about a fifth of that. `Transport.request` uses it for plain `http://` servers reached without
a proxy; everything else (TLS, proxies, streamed bodies and downloads, injected transports)
stays on httpx.

http.client does the HTTP: the request head, the status line and headers, bodies framed by
`Content-Length`, chunked encoding or the end of the connection, and whether the connection may
be used again (`will_close`). This module adds the pool, the timeouts and the error mapping.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

MAX_IDLE = 32
# Characters a request target may hold as they are (RFC 3986 pchar plus "/" and "%", so paths
# the stores quoted already stay as they are); anything else is percent-encoded, as httpx does.
_PATH_SAFE = "/%:@!$&'()*+,;=~"
# How a kept-alive connection the server closed while it sat idle fails on its next use: the
# send hits a closed socket, or the connection ends or is reset before the answer's head came
# back (http.client's RemoteDisconnected, for no byte at all, is a ConnectionResetError).
_STALE_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class WireError(Exception):
    """The connection failed: the request may or may not have reached the server."""


class WireTimeoutError(WireError):
    """The server accepted the request but did not answer within the read timeout."""


@dataclass(frozen=True, slots=True)
class WireResponse:
    """An answer, read whole.

    Attributes:
        status: the HTTP status code.
        headers: header values by lower-case name (the last one when repeated).
        content: the body.
    """

    status: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.content)


def request_target(path: str, params: dict[str, Any] | None) -> str:
    """The path (percent-encoded where needed) and query string, as httpx would send them."""
    target = quote(path, safe=_PATH_SAFE)
    if params:
        pairs = [
            (key, _query_value(item))
            for key, value in params.items()
            for item in (value if isinstance(value, list | tuple) else (value,))
        ]
        target += "?" + urlencode(pairs, quote_via=quote)
    return target


def _query_value(value: Any) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


class _StaleError(Exception):
    """A pooled connection turned out closed before any byte of the answer came back."""


class WirePool:
    """Keep-alive connections to one plain-HTTP server; safe to use from several threads.

    Args:
        url: the server's base URL (`http://host:port[/prefix]`).
        headers: sent with every request (user agent, authorization).
        timeout_s: the read timeout of one request.
        connect_timeout_s: the time to establish a connection.
    """

    def __init__(
        self,
        url: str,
        *,
        headers: dict[str, str],
        timeout_s: float,
        connect_timeout_s: float,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"WirePool speaks plain http:// only, not {url!r}")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._prefix = parts.path.rstrip("/")
        self._headers = list({"host": parts.netloc, "accept": "*/*", **headers}.items())
        self._timeout_s = timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def request(
        self, method: str, target: str, *, body: bytes | None = None, content_type: str = ""
    ) -> WireResponse:
        """Send one request and read its whole answer.

        A pooled connection the server closed while it was idle is replaced once, at once.

        Raises:
            WireTimeoutError: no answer within the read timeout.
            WireError: the connection could not be made or failed.
        """
        conn = self._take()
        if conn is not None:
            try:
                return self._exchange(conn, method, target, body, content_type, pooled=True)
            except _StaleError:
                # Closed by the server while idle (a restart, its keep-alive timeout): send it
                # on a fresh connection. Every write of the API is idempotent.
                pass
        conn = self._connect()
        return self._exchange(conn, method, target, body, content_type, pooled=False)

    def close(self) -> None:
        """Close the idle connections."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _take(self) -> http.client.HTTPConnection | None:
        with self._lock:
            return self._idle.pop() if self._idle else None

    def _give(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append(conn)
                return
        conn.close()

    def _connect(self) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection(self._host, self._port, timeout=self._connect_timeout_s)
        try:
            conn.connect()
            # http.client sets it too (3.11); a small request must not wait for an ACK.
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.sock.settimeout(self._timeout_s)
        except OSError as exc:
            conn.close()
            raise WireError(f"cannot connect to {self._host}:{self._port}: {exc}") from exc
        return conn

    def _exchange(
        self,
        conn: http.client.HTTPConnection,
        method: str,
        target: str,
        body: bytes | None,
        content_type: str,
        *,
        pooled: bool,
    ) -> WireResponse:
        """One request on `conn`; `_StaleError` if a pooled one was closed before any answer."""
        started = False  # the answer's status line and headers were read
        try:
            conn.putrequest(
                method, self._prefix + target, skip_host=True, skip_accept_encoding=True
            )
            for name, value in self._headers:
                conn.putheader(name, value)
            if body is not None:
                conn.putheader("content-type", content_type)
                conn.putheader("content-length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            started = True
            content = response.read()
        except TimeoutError as exc:
            conn.close()
            raise WireTimeoutError(f"no answer within {self._timeout_s} s") from exc
        except _STALE_ERRORS as exc:
            conn.close()
            if pooled and not started:
                raise _StaleError from exc
            raise WireError(f"{type(exc).__name__}: {exc}") from exc
        except (OSError, http.client.HTTPException, ValueError) as exc:
            conn.close()
            raise WireError(
                f"a malformed answer or a failed connection ({type(exc).__name__}: {exc})"
            ) from exc
        headers = {name.lower(): value for name, value in response.getheaders()}
        if response.will_close:
            conn.close()
        else:
            self._give(conn)
        return WireResponse(response.status, headers, content)
