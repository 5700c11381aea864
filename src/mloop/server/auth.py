"""Authentication and roles for `mloop server --auth`: one ASGI middleware in front of every route.

Credentials, checked on every request but `/health` and `/ready`:

- `Authorization: Bearer mloop_<id>_<secret>`: an API token (`mloop tokens create`); this is
  what `MLOOP_TRACKING_TOKEN` and MLflow's `MLFLOW_TRACKING_TOKEN` send.
- `Authorization: Basic user:password` (or `user:<api token>`): what MLflow clients send from
  `MLFLOW_TRACKING_USERNAME` / `MLFLOW_TRACKING_PASSWORD`, and what browsers prompt for.

No or wrong credentials get 401 with a `WWW-Authenticate` challenge; valid credentials without
the role the request needs (`mloop.server.auth_rules`) get 403. Both in the server's error shape
(MLflow's `{"error_code", "message"}` under the MLflow API paths).

For routes: the authenticated `mloop.entities.auth.User` is `request.state.user` (absent when
auth is off). Routes record `request.state.user.name` as the `actor` of audit events and as a
new run's `user_id` when the request gives none (`mloop.server.deps.actor_of` does the first).

Verified credentials are cached in the process for `cache_ttl_s` (10 s by default), so a
password's argon2 check (~0.1 s by design) runs once, not on every request; a revoked token or
changed role therefore takes effect within that time on every replica.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
import time
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mloop.entities.auth import Role, User
from mloop.errors import ConfigurationError, MloopError, NotFoundError
from mloop.server.auth_rules import Need, Requirement, parse_json_body, requirement_for, scope_of
from mloop.server.errors import error_details, error_response, status_for
from mloop.storage.protocols import AuthStore, Store

REALM = "mloop"
CHALLENGES = (f'Basic realm="{REALM}", charset="UTF-8"', f'Bearer realm="{REALM}"')
MAX_CACHED = 10_000
# Bodies up to this size are read to find the experiment a request names; larger ones are
# scoped by their path and query only.
MAX_SCOPED_BODY_BYTES = 1024 * 1024


class CredentialCache:
    """Users whose credentials were verified recently, keyed by a hash of the header.

    Args:
        ttl_s: how long a verification stays valid; 0 disables the cache.
    """

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[float, User]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> User | None:
        """The cached user for this key while fresh, else None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] < time.monotonic():
                return None
            return entry[1]

    def put(self, key: str, user: User) -> None:
        """Remember a verified user; the oldest entry goes when the cache is full."""
        if self.ttl_s <= 0:
            return
        with self._lock:
            if len(self._entries) >= MAX_CACHED:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (time.monotonic() + self.ttl_s, user)


def auth_store_of(store: Store) -> AuthStore:
    """The auth store of a server's store.

    Raises:
        ConfigurationError: the store has none (a REST store: users live in the database).
    """
    auth: AuthStore | None = getattr(store, "auth", None)
    if auth is None:
        raise ConfigurationError(
            "authentication needs the server to run on a database (sqlite:/// or "
            "postgresql://), where its users and tokens are kept"
        )
    return auth


def authenticate(auth: AuthStore, header: str) -> User | None:
    """The user an `Authorization` header value proves to be, or None."""
    scheme, _, credentials = header.strip().partition(" ")
    scheme = scheme.lower()
    credentials = credentials.strip()
    if scheme == "bearer":
        return auth.find_user_by_token(credentials)
    if scheme != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    name, separator, secret = decoded.partition(":")
    if not separator or not name:
        return None
    if secret.startswith("mloop_"):
        return auth.find_user_by_token(secret, user=name)
    return auth.find_user_by_password(name, secret)


class AuthMiddleware:
    """Authenticates every request and checks its role before the routes see it.

    Args:
        app: the application it wraps.
        store: the server's store (its `auth` store holds users and tokens).
        cache_ttl_s: how long verified credentials are remembered.
    """

    def __init__(self, app: ASGIApp, *, store: Store, cache_ttl_s: float = 10.0) -> None:
        self.app = app
        self.store = store
        self.auth = auth_store_of(store)
        self.cache = CredentialCache(cache_ttl_s)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":  # lifespan
            await self.app(scope, receive, send)
            return
        requirement = requirement_for(scope["method"], scope["path"])
        if requirement.need is Need.OPEN:
            await self.app(scope, receive, send)
            return
        try:
            user = await self._user(scope)
            if user is None:
                await _deny(send, scope, 401, _unauthenticated_message(scope))
                return
            allowed, receive = await self._is_allowed(user, requirement, scope, receive)
        except MloopError as exc:
            # E.g. the database is down: the same answer the routes would give (503), not a
            # bare 500 from outside the error handlers.
            status, code = status_for(exc)
            response = error_response(status, code, exc.message, error_details(exc))
            await response(scope, receive, send)
            return
        if not allowed:
            await _deny(send, scope, 403, _forbidden_message(user, requirement, scope))
            return
        scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket needs a user with a global reader role; others are closed (1008)."""
        user = await self._user(scope)
        if user is None or user.role is None:
            await receive()  # the websocket.connect message, before closing
            await send({"type": "websocket.close", "code": 1008})
            return
        scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)

    async def _user(self, scope: Scope) -> User | None:
        header = _header(scope, b"authorization")
        if not header:
            return None
        key = hashlib.sha256(header.encode("utf-8", "surrogateescape")).hexdigest()
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        # The store and argon2 block: off the event loop.
        user = await run_in_threadpool(authenticate, self.auth, header)
        if user is not None:
            self.cache.put(key, user)
        return user

    async def _is_allowed(
        self, user: User, requirement: Requirement, scope: Scope, receive: Receive
    ) -> tuple[bool, Receive]:
        """Whether `user` may make the request, and the receive channel to pass on."""
        if requirement.need is Need.AUTHENTICATED:
            return True, receive
        # Every ROLE and GLOBAL_ADMIN requirement names its role; admin is the safe fallback.
        needed = requirement.role or Role.ADMIN
        if user.role is not None and user.role.includes(needed):
            return True, receive
        if requirement.need is Need.GLOBAL_ADMIN or not _may_have_more(user, needed):
            return False, receive
        body, receive = await _read_json_body(scope, receive)
        experiments = await run_in_threadpool(self._experiments_named, scope, body)
        if not experiments:
            return False, receive
        allowed = all(_role_in(user, e, needed) for e in experiments)
        return allowed, receive

    def _experiments_named(self, scope: Scope, body: Any) -> set[str]:
        named = scope_of(scope["path"], scope.get("query_string", b""), body)
        experiments = set(named.experiment_ids)
        for run_id in named.run_ids:
            found = self.auth.find_experiment_of_run(run_id)
            if found is not None:
                experiments.add(found)
        for name in named.experiment_names:
            experiment = self.store.experiments.find_by_name(name)
            if experiment is not None:
                experiments.add(experiment.experiment_id)
        experiments.update(self._experiments_of_models(named.model_ids))
        return experiments

    def _experiments_of_models(self, model_ids: set[str]) -> set[str]:
        logged_models = getattr(self.store, "logged_models", None)
        found: set[str] = set()
        if logged_models is None:
            return found
        for model_id in model_ids:
            try:
                found.add(logged_models.get(model_id, allow_deleted=True).experiment_id)
            except NotFoundError:
                continue  # names nothing: the global role decides, the route answers 404
        return found


def install_auth(app: FastAPI, *, cache_ttl_s: float = 10.0) -> None:
    """Require credentials and roles on every route of `app` but `/health` and `/ready`.

    Installed outermost, so an unauthenticated request is answered before any other work.

    Args:
        app: an app from `create_app`, with `app.state.store`.
        cache_ttl_s: how long verified credentials are remembered (0: check every request).

    Raises:
        ConfigurationError: the app's store has no users (not a database store).
    """
    from mloop.server import auth_routes

    app.include_router(auth_routes.router)
    app.add_middleware(AuthMiddleware, store=app.state.store, cache_ttl_s=cache_ttl_s)


def _may_have_more(user: User, needed: Role) -> bool:
    return any(role.includes(needed) for role in user.experiment_roles.values())


def _role_in(user: User, experiment_id: str, needed: Role) -> bool:
    role = user.role_in(experiment_id)
    return role is not None and role.includes(needed)


async def _read_json_body(scope: Scope, receive: Receive) -> tuple[Any, Receive]:
    """The JSON body (or None), and a receive channel that replays it to the app."""
    if scope["method"] in ("GET", "HEAD", "OPTIONS"):
        return None, receive
    content_type = _header(scope, b"content-type") or ""
    length = _header(scope, b"content-length")
    if "json" not in content_type or not length or not length.isdigit():
        return None, receive
    if int(length) > MAX_SCOPED_BODY_BYTES:
        return None, receive
    chunks: list[bytes] = []
    messages: list[Message] = []
    more = True
    while more:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)

    async def replay() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()

    return parse_json_body(b"".join(chunks)), replay


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _is_mlflow(scope: Scope) -> bool:
    path: str = scope["path"]
    return path.startswith(("/api/2.0/mlflow", "/ajax-api/2.0/mlflow"))


def _unauthenticated_message(scope: Scope) -> str:
    if _header(scope, b"authorization"):
        return (
            "the credentials were not accepted (unknown user, wrong password, or an unknown or "
            "revoked token); `mloop tokens create --user NAME` issues a new token"
        )
    return (
        "this server requires authentication: send an API token as `Authorization: Bearer "
        "<token>` (set MLOOP_TRACKING_TOKEN, or MLFLOW_TRACKING_TOKEN for MLflow clients), or "
        "HTTP basic auth (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD)"
    )


def _forbidden_message(user: User, requirement: Requirement, scope: Scope) -> str:
    where = "globally" if requirement.need is Need.GLOBAL_ADMIN else "for this request"
    role = requirement.role.value if requirement.role else "a role"
    held = user.role.value if user.role else "no global role"
    return (
        f"user {user.name!r} ({held}) may not {scope['method']} {scope['path']}: it needs the "
        f"{role} role {where}; an admin can grant it with `mloop users grant {user.name} "
        f"--role {role}` (add --experiment ID for one experiment)"
    )


async def _deny(send: Send, scope: Scope, status: int, message: str) -> None:
    code = "UNAUTHENTICATED" if status == 401 else "PERMISSION_DENIED"
    if _is_mlflow(scope):
        payload: dict[str, Any] = {"error_code": code, "message": message}
    else:
        payload = {"error": {"code": code, "message": message, "details": {}}}
    body = json.dumps(payload).encode("utf-8")
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
    ]
    if status == 401:
        headers.extend((b"www-authenticate", c.encode("ascii")) for c in CHALLENGES)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
