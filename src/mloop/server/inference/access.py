"""`mloop serve --auth`: the tracking server's API tokens and passwords, checked per request.

The same credentials as `mloop server --auth` (`Authorization: Bearer mloop_...`, or Basic with a
password or token), verified against the store's users by `mloop.server.auth.authenticate` and
cached for 10 s per header, so only the first request of a client pays the store (and argon2).
Predicting needs a user with a global role (reader or above); a user with only per-experiment
permissions gets 403. Imported only with auth on: it loads the tracking server's auth module.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import TYPE_CHECKING, Any

from mloop.errors import AuthenticationError, PermissionDeniedError
from mloop.server.auth import CredentialCache, auth_store_of, authenticate

if TYPE_CHECKING:
    from mloop.storage import Store

CACHE_TTL_S = 10.0


class TokenCheck:
    """Checks a request's credentials against a store's users.

    Args:
        store: the store whose `auth` holds users and tokens.
        cache_ttl_s: how long a verified header is trusted without asking the store again.

    Raises:
        ConfigurationError: the store has no users (a REST store).
    """

    def __init__(self, store: Store, *, cache_ttl_s: float = CACHE_TTL_S) -> None:
        self.auth = auth_store_of(store)
        self.cache = CredentialCache(cache_ttl_s)

    async def check(self, scope: dict[str, Any]) -> None:
        """Return when the request carries valid credentials of a user with a global role.

        Raises:
            AuthenticationError: no or wrong credentials (401).
            PermissionDeniedError: the user has no global role (403).
        """
        header = ""
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = bytes(value).decode("latin-1")
                break
        if not header:
            raise AuthenticationError(
                "this inference server needs credentials: send 'Authorization: Bearer <token>' "
                "with a token from `mloop tokens create`"
            )
        key = hashlib.sha256(header.encode("utf-8", "surrogateescape")).hexdigest()
        user = self.cache.get(key)
        if user is None:
            loop = asyncio.get_running_loop()
            user = await loop.run_in_executor(None, authenticate, self.auth, header)
            if user is None:
                raise AuthenticationError(
                    "the credentials are not valid (unknown, revoked or expired token, or wrong "
                    "password); create a token with `mloop tokens create`"
                )
            self.cache.put(key, user)
        if user.role is None:
            raise PermissionDeniedError(
                f"user {user.name!r} has no global role; predicting needs reader or above "
                "(`mloop users grant NAME --role reader`)"
            )
