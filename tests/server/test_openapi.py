"""The OpenAPI document: every /api/v1 operation documents its error answers, resolvably."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from mloop.server.schemas import ERROR_RESPONSES, ErrorResponse, error_schemas
from tests.server.conftest import LiveServer


def _resolve(document: dict[str, Any], ref: str) -> dict[str, Any]:
    prefix = "#/components/schemas/"
    assert ref.startswith(prefix), ref
    schema: dict[str, Any] = document["components"]["schemas"][ref[len(prefix) :]]
    return schema


def test_every_api_operation_documents_the_error_shape(live_server: LiveServer) -> None:
    document = live_server.client.get("/openapi.json").json()
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in item.items()
    ]
    assert len(operations) > 50
    for path, method, operation in operations:
        for status in ("400", "404", "503"):
            answer = operation["responses"][status]
            ref = answer["content"]["application/json"]["schema"]["$ref"]
            error = _resolve(document, ref)
            assert error["required"] == ["error"], (path, method)
            body = _resolve(document, error["properties"]["error"]["$ref"])
            assert set(body["properties"]) == {"code", "message", "details"}


def test_the_error_schemas_are_what_fastapi_makes_of_the_models() -> None:
    # The reference-only `ERROR_RESPONSES` must document what `"model": ErrorResponse` did.
    by_model = APIRouter(
        responses={
            status: {"model": ErrorResponse, "description": response["description"]}
            for status, response in ERROR_RESPONSES.items()
        }
    )
    by_reference = APIRouter(responses=ERROR_RESPONSES)

    def probe() -> None:
        """Doc."""

    documents = []
    for router in (by_model, by_reference):
        router.get("/probe")(probe)
        app = FastAPI()
        app.include_router(router)
        documents.append(app.openapi())
    documents[1].setdefault("components", {})["schemas"] = error_schemas()
    assert documents[0] == documents[1]
