"""Request body size limit: a body over `max_body_bytes` gets 413 and is never held in memory.

Artifact and blob uploads (PUT) are exempt: they stream to the blob store in bounded memory,
whatever their size.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """Answers 413 for bodies declared or found to be larger than `max_bytes`.

    Args:
        app: the application.
        max_bytes: the largest body accepted.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_upload(scope):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _drain(receive)
            await _too_large(send, self.max_bytes)
            return
        received = 0

        async def counting_receive() -> Message:
            # A body sent without a length (chunked) is counted as it arrives; the error
            # handlers turn the exception into the same 413 answer.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    if message.get("more_body", False):
                        await _drain(receive)
                    raise HTTPException(413, _message(self.max_bytes))
            return message

        await self.app(scope, counting_receive, send)


def _is_upload(scope: Scope) -> bool:
    path: str = scope["path"]
    return scope["method"] == "PUT" and ("/artifacts/" in path or path.startswith("/api/v1/blobs/"))


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _drain(receive: Receive) -> None:
    """Read the rest of a refused body, keeping none of it.

    Answering before the client has sent everything would make the kernel reset the connection,
    and the client would see a broken connection instead of the 413.
    """
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


def _message(limit: int) -> str:
    return (
        f"the request body is larger than this server's limit of {limit} bytes; split the "
        "batch, or upload large content as an artifact"
    )


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "error": {
                "code": "REQUEST_TOO_LARGE",
                "message": _message(limit),
                "details": {"max_body_bytes": limit},
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
