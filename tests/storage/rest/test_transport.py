"""Retries, backoff and error mapping of the REST transport, against real HTTP servers."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from mloop.errors import (
    AuthenticationError,
    ExperimentNotFoundError,
    InvalidInputError,
    MloopError,
    NotFoundError,
    ParamConflictError,
    StorageError,
)
from mloop.storage.rest.errors import error_from_response
from mloop.storage.rest.transport import Transport
from tests.server.conftest import serve_in_thread


class Flaky:
    """A real server whose `/status/{code}` answers `code` for the first `failures` calls."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: dict[str, int] = {}
        self.headers: list[str | None] = []
        app = FastAPI()

        @app.api_route("/status/{code}", methods=["GET", "POST"])
        def status(code: int, authorization: str | None = None) -> Response:
            key = str(code)
            self.calls[key] = self.calls.get(key, 0) + 1
            if self.calls[key] <= self.failures:
                body = {"error": {"code": "X", "message": f"failing with {code}", "details": {}}}
                return JSONResponse(body, status_code=code, headers={"retry-after": "0"})
            return JSONResponse({"ok": True})

        @app.get("/html")
        def html() -> Response:
            return PlainTextResponse("<html>bad gateway</html>", status_code=502)

        self.app = app


@pytest.fixture
def flaky() -> Iterator[tuple[Flaky, str]]:
    server = Flaky(failures=2)
    url, stop = serve_in_thread(server.app)
    yield server, url
    stop()


@pytest.mark.parametrize("code", [429, 503])
def test_429_and_503_are_retried_until_they_pass(flaky: tuple[Flaky, str], code: int) -> None:
    server, url = flaky
    transport = Transport(url, max_retries=3, backoff_s=0.001)
    assert transport.request("GET", f"/status/{code}") == {"ok": True}
    assert server.calls[str(code)] == 3


@pytest.mark.parametrize("code", [400, 404, 409, 500])
def test_other_errors_are_never_retried(flaky: tuple[Flaky, str], code: int) -> None:
    server, url = flaky
    transport = Transport(url, max_retries=3, backoff_s=0.001)
    with pytest.raises(MloopError, match=f"failing with {code}"):
        transport.request("POST", f"/status/{code}", body={"a": 1})
    assert server.calls[str(code)] == 1


def test_retries_give_up_after_the_budget_with_the_servers_error(
    flaky: tuple[Flaky, str],
) -> None:
    server, url = flaky
    transport = Transport(url, max_retries=1, backoff_s=0.001)
    with pytest.raises(StorageError, match="failing with 503"):
        transport.request("GET", "/status/503")
    assert server.calls["503"] == 2


def test_an_answer_that_is_not_mloops_names_the_server_and_status(
    flaky: tuple[Flaky, str],
) -> None:
    _, url = flaky
    with pytest.raises(StorageError, match=r"HTTP 502 without an mloop error body"):
        Transport(url, max_retries=0).request("GET", "/html")


def test_connection_refused_is_retried_with_backoff_then_a_storage_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    transport = Transport(f"http://127.0.0.1:{port}", max_retries=2, backoff_s=0.05)
    start = time.perf_counter()
    with pytest.raises(StorageError, match=r"cannot reach the mloop server .* after 3 attempts"):
        transport.request("GET", "/anything")
    # Two waits of 0.05 s and 0.1 s, each with up to half taken off as jitter.
    assert time.perf_counter() - start >= 0.07


def test_the_token_is_sent_as_a_bearer_header() -> None:
    seen: list[str | None] = []
    app = FastAPI()

    @app.get("/who")
    def who(request_headers: str | None = None) -> dict[str, str]:
        return {}

    @app.middleware("http")
    async def record(request, call_next):
        seen.append(request.headers.get("authorization"))
        return await call_next(request)

    url, stop = serve_in_thread(app)
    try:
        Transport(url, token="s3cret").request("GET", "/who")
        Transport(url).request("GET", "/who")
    finally:
        stop()
    assert seen == ["Bearer s3cret", None]


def test_error_bodies_become_the_exact_error_class_with_its_attributes() -> None:
    body = {
        "error": {
            "code": "INVALID_INPUT",
            "message": "param 'lr' is already '1'",
            "details": {
                "error_type": "ParamConflictError",
                "run_id": "r",
                "key": "lr",
                "old_value": "1",
                "new_value": "2",
                "field": "lr",
            },
        }
    }
    error = error_from_response(400, body, url="http://x")
    assert type(error) is ParamConflictError
    assert (error.key, error.old_value, error.new_value, error.field) == ("lr", "1", "2", "lr")
    assert str(error) == "param 'lr' is already '1'"


def test_unknown_or_foreign_error_types_fall_back_to_the_codes_class() -> None:
    def make(error_type: str, code: str = "NOT_FOUND") -> MloopError:
        body = {"error": {"code": code, "message": "m", "details": {"error_type": error_type}}}
        return error_from_response(404, body, url="http://x")

    assert type(make("SomethingNew")) is NotFoundError
    assert type(make("ExperimentNotFoundError")) is ExperimentNotFoundError
    # A class from another tier, or not an error at all, is never built from a body.
    assert type(make("ParamConflictError")) is NotFoundError
    assert type(make("Path")) is NotFoundError
    assert type(make("x", code="UNAUTHENTICATED")) is AuthenticationError
    assert type(make("x", code="NO_SUCH_CODE")) is NotFoundError
    assert type(error_from_response(500, {"error": {"message": "m"}}, url="u")) is StorageError
    assert type(error_from_response(418, "teapot", url="u")) is InvalidInputError


def test_details_never_shadow_methods_of_the_error() -> None:
    body = {
        "error": {
            "code": "INVALID_INPUT",
            "message": "m",
            "details": {"with_traceback": 1, "_private": 2, "not an identifier": 3, "field": "f"},
        }
    }
    error = error_from_response(400, body, url="http://x")
    assert isinstance(error, InvalidInputError)
    assert callable(error.with_traceback)
    assert error.field == "f"
    assert not hasattr(error, "_private")
