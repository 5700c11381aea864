"""The REST store: the store protocols over HTTP to `mloop server` (httpx, pooled, retried).

The only place outside `server/` that knows HTTP status codes and routes of `/api/v1`.
"""

from __future__ import annotations

from mloop.storage.rest.store import RestStore as RestStore

__all__ = ["RestStore"]
