"""The keep-alive HTTP/1.1 pool of the REST client (`storage/rest/wire.py`), on real sockets."""

from __future__ import annotations

import socket
import statistics
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from mloop.errors import StorageError
from mloop.storage.rest.transport import Transport
from mloop.storage.rest.wire import WireError, WirePool, WireTimeoutError, request_target
from tests.server.conftest import serve_in_thread


def _pool(url: str, timeout_s: float = 5.0) -> WirePool:
    return WirePool(url, headers={"user-agent": "t"}, timeout_s=timeout_s, connect_timeout_s=2)


@pytest.fixture
def echo() -> Iterator[str]:
    """A real uvicorn whose routes echo what they got, in several framings."""
    app = FastAPI()

    @app.api_route("/echo/{rest:path}", methods=["GET", "POST", "DELETE", "PATCH"])
    async def echo_route(request: Request) -> JSONResponse:
        client = request.client
        return JSONResponse(
            {
                "method": request.method,
                "path": request.url.path,
                "raw_path": request.scope["raw_path"].decode(),
                "query": list(request.query_params.multi_items()),
                "body": (await request.body()).decode(),
                "content_type": request.headers.get("content-type"),
                "port": client.port if client else None,
            }
        )

    @app.post("/nothing")
    def nothing() -> Response:
        return Response(status_code=204)

    @app.get("/chunked")
    def chunked() -> StreamingResponse:
        return StreamingResponse(iter([b'{"parts": ', b"[1, 2", b", 3]}"]))

    url, stop = serve_in_thread(app)
    yield url
    stop()


def test_json_requests_and_answers_on_one_kept_alive_connection(echo: str) -> None:
    pool = _pool(echo)
    first = pool.request("POST", "/echo/a", body=b'{"x": 1}', content_type="application/json")
    second = pool.request("GET", "/echo/b")
    assert first.status == 200
    assert first.headers["content-type"] == "application/json"
    assert first.json()["body"] == '{"x": 1}'
    assert first.json()["content_type"] == "application/json"
    assert (second.json()["method"], second.json()["body"]) == ("GET", "")
    assert first.json()["port"] == second.json()["port"]  # the same connection
    assert pool.request("POST", "/nothing").content == b""
    pool.close()


def test_chunked_answers_are_read_whole(echo: str) -> None:
    pool = _pool(echo)
    for _ in range(2):  # and the connection stays usable after one
        assert pool.request("GET", "/chunked").json() == {"parts": [1, 2, 3]}
    pool.close()


def test_paths_and_queries_are_encoded_as_httpx_does(echo: str) -> None:
    target = request_target(
        "/echo/models/a b/é%2Fc",
        {"name": "x y&z", "flag": True, "off": False, "none": None, "many": ["1", 2]},
    )
    answer = _pool(echo).request("GET", target).json()
    assert answer["raw_path"] == "/echo/models/a%20b/%C3%A9%2Fc"
    assert answer["query"] == [
        ["name", "x y&z"],
        ["flag", "true"],
        ["off", "false"],
        ["none", ""],
        ["many", "1"],
        ["many", "2"],
    ]


def test_a_base_url_with_a_prefix_is_kept(echo: str) -> None:
    answer = _pool(f"{echo}/echo").request("GET", "/inner").json()
    assert answer["path"] == "/echo/inner"


@dataclass
class Scripted:
    """A raw TCP server answering each request with the next scripted bytes."""

    answers: list[bytes | None]  # None: read the request, never answer
    close_after: bool = False
    reset_after: bool = False  # close with a TCP reset (SO_LINGER 0) instead of a FIN
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)

    def serve(self) -> tuple[str, Callable[[], None]]:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.2)
        stopping = self.stopping

        def run() -> None:
            while not stopping.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                self.connections += 1
                with conn:
                    self._answer(conn)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()

        def stop() -> None:
            stopping.set()
            thread.join()
            listener.close()

        return f"http://127.0.0.1:{listener.getsockname()[1]}", stop

    def _answer(self, conn: socket.socket) -> None:
        data = b""
        while self.answers:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, data = data.partition(b"\r\n\r\n")
            self.requests.append(head)
            answer = self.answers.pop(0)
            if answer is None:
                self.stopping.wait(10)
                return
            conn.sendall(answer)
            if self.reset_after:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            if self.close_after:
                return


def test_an_answer_ended_by_closing_the_connection() -> None:
    script = Scripted([b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"a": 1}'], True)
    url, stop = script.serve()
    try:
        assert _pool(url).request("GET", "/x").json() == {"a": 1}
    finally:
        stop()


@pytest.mark.parametrize(
    "reset",
    # Closed without saying so, as by a keep-alive timeout; or reset (a restarted server).
    [pytest.param(False, id="closed"), pytest.param(True, id="reset")],
)
def test_a_connection_the_server_ended_while_idle_is_replaced(reset: bool) -> None:
    ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"
    # Each connection answers once, then ends.
    script = Scripted([ok, ok, ok], close_after=not reset, reset_after=reset)
    url, stop = script.serve()
    try:
        pool = _pool(url)
        for _ in range(3):
            assert pool.request("GET", "/x").json() == {}
            time.sleep(0.05)  # let the close or reset arrive
        assert (script.connections, len(script.requests)) == (3, 3)
    finally:
        stop()


def test_an_answer_cut_short_is_an_error_and_not_sent_again() -> None:
    ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"
    cut = b'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{"a"'
    script = Scripted([ok, cut, ok])
    url, stop = script.serve()
    try:
        pool = _pool(url)
        assert pool.request("GET", "/x").json() == {}
        time.sleep(0.05)  # the server closes after the cut answer: its last one is left
        with pytest.raises(WireError):
            pool.request("GET", "/x")
        # The answer had begun: the pool did not send the request again on a fresh connection.
        assert (script.connections, len(script.requests)) == (1, 2)
    finally:
        stop()


def test_a_kept_alive_connection_whose_server_stops_answering_is_a_timeout() -> None:
    ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"
    script = Scripted([ok, None])
    url, stop = script.serve()
    try:
        pool = _pool(url, timeout_s=0.3)
        assert pool.request("GET", "/x").json() == {}
        started = time.perf_counter()
        with pytest.raises(WireTimeoutError):
            pool.request("POST", "/x", body=b"{}", content_type="application/json")
        assert time.perf_counter() - started < 5
        # A timeout is not a stale connection: the request was not sent again elsewhere.
        assert (script.connections, len(script.requests)) == (1, 2)
    finally:
        stop()


def test_reused_connections_do_not_wait_for_delayed_acks(echo: str) -> None:
    """Head and body on a reused connection go out without Nagle waiting on a ~40 ms ACK."""
    pool = _pool(echo)
    body = b'{"metrics": [' + b",".join(b"%d" % i for i in range(200)) + b"]}"
    pool.request("POST", "/echo/warm", body=body, content_type="application/json")
    times = []
    for _ in range(200):
        started = time.perf_counter()
        pool.request("POST", "/echo/r", body=body, content_type="application/json")
        times.append(time.perf_counter() - started)
    pool.close()
    assert statistics.median(times) < 0.005


def test_the_request_head_carries_host_headers_and_length() -> None:
    script = Scripted([b"HTTP/1.1 204 No Content\r\n\r\n"])
    url, stop = script.serve()
    try:
        pool = WirePool(
            url, headers={"authorization": "Bearer t"}, timeout_s=5, connect_timeout_s=2
        )
        pool.request("PATCH", "/r", body=b"{}", content_type="application/json")
    finally:
        stop()
    lines = script.requests[0].decode().split("\r\n")
    assert lines[0] == "PATCH /r HTTP/1.1"
    assert set(lines[1:]) == {
        f"host: {url.removeprefix('http://')}",
        "accept: */*",
        "authorization: Bearer t",
        "content-type: application/json",
        "content-length: 2",
    }


def test_a_server_that_never_answers_is_a_timeout() -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # accepts (backlog), never answers
    try:
        pool = _pool(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout_s=0.2)
        with pytest.raises(WireTimeoutError):
            pool.request("GET", "/x")
    finally:
        listener.close()


def test_a_refused_connection_is_a_wire_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(WireError, match="cannot connect"):
        _pool(f"http://127.0.0.1:{port}").request("GET", "/x")


def test_a_garbled_answer_is_a_wire_error() -> None:
    script = Scripted([b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n"], True)
    url, stop = script.serve()
    try:
        with pytest.raises(WireError, match="malformed answer"):
            _pool(url).request("GET", "/x")
    finally:
        stop()


def test_the_transport_uses_the_keep_alive_pool_only_where_httpx_adds_nothing(
    echo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Transport(echo)._wire is not None
    assert Transport(echo.replace("http://", "https://"))._wire is None
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    assert Transport(echo)._wire is None


def test_the_transport_reports_a_silent_server_as_a_timeout() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        transport = Transport(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout_s=0.2)
        with pytest.raises(StorageError, match="did not answer GET /x in time"):
            transport.request("GET", "/x")
    finally:
        listener.close()
