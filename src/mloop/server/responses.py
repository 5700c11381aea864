"""JSON answers written straight from pydantic models, for the hot read routes.

A route that returns a model has FastAPI validate it again against its response model (in the
thread pool, for a plain function) before encoding it; a model built by the route is valid
already. Returning `model_json(model)` encodes it once, in Rust, and the route keeps its
`response_model=` for the OpenAPI schema.
"""

from __future__ import annotations

from pydantic import BaseModel
from starlette.responses import Response


def model_json(model: BaseModel, *, status_code: int = 200) -> Response:
    """`model` encoded as the JSON answer FastAPI would have sent for it."""
    return Response(
        model.__pydantic_serializer__.to_json(model),
        status_code=status_code,
        media_type="application/json",
    )
