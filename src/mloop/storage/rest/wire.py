"""Plain HTTP/1.1 on pooled keep-alive sockets, for the client's small JSON requests.

httpx spends about 0.3-0.4 ms of Python on each request (URL merging, header and cookie models,
its HTTP state machine, a separate send for headers and body): on loopback that is more than
the server takes to handle a small write, and a W4 run is two such requests. `WirePool` sends a
request as one buffer on a pooled socket with TCP_NODELAY and reads the answer with a few bytes
operations. `Transport.request` uses it for plain `http://` servers reached without a proxy;
everything else (TLS, proxies, streamed bodies and downloads, injected transports) stays on
httpx.

What it reads: a status line, headers, then a body framed by `Content-Length`, by chunked
transfer encoding, or by the end of the connection; no body for HEAD, 1xx, 204 and 304.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

MAX_HEAD_BYTES = 64 * 1024
MAX_IDLE = 32
# Characters a request target may hold as they are (RFC 3986 pchar plus "/" and "%", so paths
# the stores quoted already stay as they are); anything else is percent-encoded, as httpx does.
_PATH_SAFE = "/%:@!$&'()*+,;=~"


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


class _Connection:
    """One socket and the bytes read from it beyond the last answer."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.received = False  # any byte of the current answer

    def close(self) -> None:
        self.sock.close()

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise WireError("the server closed the connection")
        self.received = True
        self.buffer += chunk

    def read_until(self, marker: bytes, limit: int) -> bytes:
        start = 0
        while (end := self.buffer.find(marker, start)) < 0:
            if len(self.buffer) > limit:
                raise WireError(f"the answer's head is longer than {limit} bytes")
            start = max(0, len(self.buffer) - len(marker) + 1)
            self._fill()
        data = bytes(self.buffer[:end])
        del self.buffer[: end + len(marker)]
        return data

    def read_exact(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.read_until(b"\r\n", MAX_HEAD_BYTES)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError as exc:
                raise WireError(f"malformed chunk size {line[:40]!r}") from exc
            if size == 0:
                # Trailers, if any, end with an empty line.
                while self.read_until(b"\r\n", MAX_HEAD_BYTES):
                    pass
                return bytes(body)
            body += self.read_exact(size)
            self.read_exact(2)

    def read_to_end(self) -> bytes:
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                data = bytes(self.buffer)
                self.buffer.clear()
                return data
            self.buffer += chunk


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
        self._address = (parts.hostname, parts.port or 80)
        self._prefix = parts.path.rstrip("/")
        fixed = {"host": parts.netloc, "accept": "*/*", **headers}
        self._fixed = "".join(f"{name}: {value}\r\n" for name, value in fixed.items())
        self._timeout_s = timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._idle: list[_Connection] = []
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
        head = f"{method} {self._prefix}{target} HTTP/1.1\r\n{self._fixed}"
        if body is not None:
            head += f"content-type: {content_type}\r\ncontent-length: {len(body)}\r\n"
        payload = (head + "\r\n").encode("latin-1") + (body or b"")
        conn = self._take()
        if conn is not None:
            try:
                return self._exchange(conn, method, payload)
            except WireTimeoutError:
                raise
            except WireError:
                if conn.received:
                    raise
                # Closed by the server while idle (a restart, its keep-alive timeout): send it
                # on a fresh connection. Every write of the API is idempotent.
        return self._exchange(self._connect(), method, payload)

    def close(self) -> None:
        """Close the idle connections."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _take(self) -> _Connection | None:
        with self._lock:
            return self._idle.pop() if self._idle else None

    def _give(self, conn: _Connection) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append(conn)
                return
        conn.close()

    def _connect(self) -> _Connection:
        try:
            sock = socket.create_connection(self._address, timeout=self._connect_timeout_s)
        except OSError as exc:
            raise WireError(
                f"cannot connect to {self._address[0]}:{self._address[1]}: {exc}"
            ) from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self._timeout_s)
        return _Connection(sock)

    def _exchange(self, conn: _Connection, method: str, payload: bytes) -> WireResponse:
        conn.received = False
        try:
            conn.sock.sendall(payload)
            response, keep = _read_response(conn, method)
        except TimeoutError as exc:
            conn.close()
            raise WireTimeoutError(f"no answer within {self._timeout_s} s") from exc
        except WireError:
            conn.close()
            raise
        except (OSError, ValueError) as exc:
            conn.close()
            raise WireError(f"{type(exc).__name__}: {exc}") from exc
        if keep:
            self._give(conn)
        else:
            conn.close()
        return response


def _read_response(conn: _Connection, method: str) -> tuple[WireResponse, bool]:
    """The next answer on `conn`, and whether the connection may be used again."""
    while True:
        lines = conn.read_until(b"\r\n\r\n", MAX_HEAD_BYTES).split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        status = int(rest[:3])
        if not 100 <= status < 200:
            break  # 1xx answers (none expected) come before the real one
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    keep = version == b"HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if method == "HEAD" or status in (204, 304):
        content = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        content = conn.read_chunked()
    elif "content-length" in headers:
        content = conn.read_exact(int(headers["content-length"]))
    else:
        content, keep = conn.read_to_end(), False
    return WireResponse(status, headers, content), keep
