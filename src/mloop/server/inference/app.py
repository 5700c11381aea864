"""The inference server's ASGI application: routes matched by hand, JSON by orjson.

Endpoints (see docs/serving.md):

| method | path | what |
|---|---|---|
| POST | `/predict` | mloop's JSON `{"inputs": columns or records}` -> `{"predictions", ...}` |
| POST | `/invocations` | MLflow scoring-server bodies (JSON or CSV) -> `{"predictions"}` |
| POST | `/v2/models/{name}[/versions/{v}]/infer` | Open Inference Protocol v2 |
| GET | `/v2`, `/v2/models/{name}[/versions/{v}]` | OIP server and model metadata |
| GET | `/v2/health/live`, `/v2/health/ready`, `/v2/models/{name}/ready` | OIP health |
| GET | `/health`, `/ping`, `/ready` | liveness (MLflow's `/ping` too) and readiness |
| GET | `/metrics` | Prometheus text |

Errors answer in the shape of each protocol: mloop's `{"error": {"code", "message",
"details"}}`, MLflow's `{"error_code", "message"}` under `/invocations`, OIP's `{"error"}` under
`/v2`. An overloaded model answers 503 with `Retry-After`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from mloop.__about__ import __version__
from mloop.errors import ConfigurationError, MloopError, NotFoundError
from mloop.server.inference.metrics import CONTENT_TYPE, InferenceMetrics
from mloop.server.inference.requests import (
    POST_ONLY,
    MethodNotAllowedError,
    NoRouteError,
    allowed_methods,
    header,
    header_length,
    jsonable,
    model_path,
    output_names,
    rows_equal,
    too_large,
)
from mloop.server.inference.responses import Reply, error_reply, json_reply
from mloop.serving import oip, payloads
from mloop.serving.holder import ServedVersion, load_version
from mloop.serving.router import Split
from mloop.serving.service import ModelService, Resolved, ShadowRequest, single

if TYPE_CHECKING:
    from mloop.models.inputs import Columns
    from mloop.server.inference.config import InferenceConfig
    from mloop.serving.predlog import PredictionLog
    from mloop.storage import Store

Scope = dict[str, Any]
Receive = Any
Send = Any

logger = logging.getLogger("mloop.server.inference")
OPEN_PATHS = frozenset({"/health", "/ping", "/ready", "/v2/health/live", "/v2/health/ready"})
REQUEST_ID = b"x-request-id"


class InferenceApp:
    """The ASGI application of `mloop serve`.

    Args:
        config: what to serve and how.
        store: the metadata store models, deployments and users are read from, or a function
            that opens it: then it is opened only when needed (a package folder served
            without auth never opens it, which keeps SQLAlchemy out of the start-up).
        prediction_log: where predictions are logged (None: not logged).
        owns_process: the app is the whole process (`mloop serve`), so `start` may tune the
            garbage collector for serving; apps run inside other programs (tests) leave it.
    """

    def __init__(
        self,
        config: InferenceConfig,
        *,
        store: Store | Callable[[], Store],
        prediction_log: PredictionLog | None = None,
        owns_process: bool = False,
    ) -> None:
        from mloop.server.inference.sources import StoreResolver

        self.config = config
        self.owns_process = owns_process
        self._open_store: Callable[[], Store] | None = store if callable(store) else None
        self._store: Store | None = None if callable(store) else store
        self.metrics = InferenceMetrics()
        # Where the runner finds the metrics to join a multi-worker server's scrapes.
        self.state = SimpleNamespace(metrics=self.metrics)
        self.prediction_log = prediction_log
        self.sticky_header: bytes | None = None
        self.sticky_field: str | None = None
        split_source = None
        if config.deployment is not None:
            split = self._deployment_split()
            split_source = self._deployment_split
        elif config.reference is not None:
            split = single(config.reference)
        else:
            raise ConfigurationError("mloop serve needs a model reference or --deployment NAME")
        self.service = ModelService(
            split,
            resolver=StoreResolver(lambda: self.store, name=config.name),
            loader=self._load,
            split_source=split_source,
            on_shadow=self._shadowed,
        )
        self._auth: Any = None
        self._started = False
        # Only the prediction log needs an id for a request that brings none; it hands out
        # numbers and writes them as 32 hex digits, unique per server process.
        self._new_request_id = None if prediction_log is None else prediction_log.new_request_id
        # Fail here, before any worker forks, on a reference that names nothing.
        self.service.check()

    # -- lifecycle -----------------------------------------------------------------------

    def after_fork(self) -> None:
        """In a forked worker: drop the parent's database connections."""
        if self._store is not None:
            self._store.after_fork()

    @property
    def store(self) -> Store:
        """The metadata store (opened on first use when given as a function)."""
        if self._store is None:
            if self._open_store is None:  # pragma: no cover - one of the two is always set
                raise ConfigurationError("the inference server has no store")
            self._store = self._open_store()
        return self._store

    def start(self) -> None:
        """Load and warm every served version; start watching and logging."""
        if self._started:
            return
        self.service.start()
        if self.config.watch_interval_s > 0 and self._watches():
            self.service.watch(self.config.watch_interval_s)
        if self.prediction_log is not None:
            self.prediction_log.start()
        if self.config.auth:
            from mloop.server.inference.access import TokenCheck

            self._auth = TokenCheck(self.store)
        if self.owns_process:
            _tune_collector()
        self._started = True

    def stop(self) -> None:
        """Stop watching; write the prediction log's last records."""
        self.service.stop()
        if self.prediction_log is not None:
            self.prediction_log.close()

    def _watches(self) -> bool:
        split = self.service.split
        refs = [*split.weights, *split.shadows]
        return self.config.deployment is not None or any(r.startswith("models:/") for r in refs)

    def _deployment_split(self) -> Split:
        from mloop.server.inference.sources import deployment_split

        name = self.config.deployment or ""
        deployment = self.store.deployments.get(name)
        key = deployment.sticky_key
        self.sticky_header = key.lower().encode("latin-1") if key else None
        self.sticky_field = key
        return deployment_split(deployment)

    def _load(self, resolved: Resolved) -> ServedVersion:
        config = self.config
        served = load_version(
            resolved.fetch(),
            model=resolved.model,
            version=resolved.version,
            source=resolved.source,
            options=config.batching,
            trusted=config.trusted,
            trusted_types=config.trusted_types,
            on_batch=self.metrics.batch_hook(resolved.model, resolved.version),
        )
        log = self.prediction_log
        if log is not None:
            # Once per model call, not per request: the batch's columns are already merged.
            model, version, names = served.model, served.version, output_names(served)

            def record(columns: Columns, output: Any, requests: list[Any]) -> None:
                log.record_batch(
                    model=model,
                    version=version,
                    columns=columns,
                    output=output,
                    requests=requests,
                    output_names=names,
                )

            served.batcher.on_result = record
        return served

    # -- ASGI ------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await asyncio.get_running_loop().run_in_executor(None, self.start)
                except MloopError as exc:
                    await send({"type": "lifespan.startup.failed", "message": exc.message})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        path: str = scope["path"]
        reply: Reply
        try:
            if self._auth is not None and path not in OPEN_PATHS:
                await self._auth.check(scope)
            reply = await self._route(scope, path, receive)
        except MloopError as exc:
            reply = error_reply(exc, path)
        except Exception as exc:  # a bug, or a model failing on checked input: logged, counted
            logger.exception("%s %s failed", scope["method"], path)
            reply = error_reply(MloopError(f"the server failed: {type(exc).__name__}: {exc}"), path)
        await send(
            {"type": "http.response.start", "status": reply.status, "headers": reply.headers}
        )
        await send({"type": "http.response.body", "body": reply.body})
        self.metrics.observe_request(
            reply.endpoint, reply.model, reply.version, reply.status, time.perf_counter() - started
        )

    async def _route(self, scope: Scope, path: str, receive: Receive) -> Reply:
        method: str = scope["method"]
        if method == "POST":
            if path == "/predict":
                return await self._predict(scope, receive)
            if path == "/invocations":
                return await self._invocations(scope, receive)
            if path.startswith("/v2/models/") and path.endswith("/infer"):
                return await self._infer(scope, path, receive)
        elif method in ("GET", "HEAD") and allowed_methods(path) != POST_ONLY:
            return self._get(path)
        allowed = allowed_methods(path)
        if allowed is not None:
            raise MethodNotAllowedError(method, path, allowed)
        raise NoRouteError(method, path)

    def _get(self, path: str) -> Reply:
        from mloop.server.inference import metadata

        if path in ("/health", "/ping", "/v2/health/live"):
            return json_reply({"status": "ok"}, endpoint="health")
        if path in ("/ready", "/v2/health/ready"):
            return metadata.readiness(self.service)
        if path == "/metrics":
            self.metrics.swaps.set(self.service.swaps)
            if self.prediction_log is not None:
                self.metrics.log_dropped.set(self.prediction_log.dropped_rows)
            return Reply(200, self.metrics.exposition(), CONTENT_TYPE, endpoint="metrics")
        if path == "/v2":
            return json_reply(
                {"name": "mloop", "version": __version__, "extensions": []}, endpoint="v2"
            )
        if path.startswith("/v2/models/"):
            name, version, rest = model_path(path)
            served = self._find(name, version) or self.service.primary()
            if rest == "ready":
                return metadata.model_readiness(served)
            if rest == "":
                return metadata.model_metadata(served, name)
        raise NoRouteError("GET", path)

    # -- predictions ---------------------------------------------------------------------

    async def _read(self, receive: Receive) -> bytes:
        limit = self.config.max_body_bytes
        message = await receive()
        body: bytes = message.get("body", b"")
        if not message.get("more_body"):
            if len(body) > limit:
                raise too_large(limit)
            return body
        parts = [body]
        size = len(body)
        while message.get("more_body"):
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            parts.append(chunk)
        return b"".join(parts)

    def _pick(self, scope: Scope, key: str | None = None) -> ServedVersion:
        """The version the router sends this request to (by its sticky key, if any).

        The key is the request's header named by the deployment's sticky key, else the body's
        top-level field of that name (mloop JSON), else there is none.
        """
        sticky = self.sticky_header
        if sticky is not None:
            key = header(scope, sticky) or key
        return self.service.pick(key)[1]

    async def _predict(self, scope: Scope, receive: Receive) -> Reply:
        body = await self._read(receive)
        data = payloads.parse_json(body)
        key = None
        if self.sticky_field is not None and isinstance(data, dict):
            value = data.get(self.sticky_field)
            key = None if value is None else str(value)
        served = self._pick(scope, key)
        columns = payloads.read_mloop(data, served.signature)
        answer = await self._answer(scope, columns, served)
        version = answer.served
        return json_reply(
            {
                "predictions": jsonable(answer.output),
                "model": version.model,
                "version": version.version,
            },
            endpoint="predict",
            model=version.model,
            version=version.version,
            headers=[(b"x-mloop-model-version", version.label.encode())],
        )

    async def _invocations(self, scope: Scope, receive: Receive) -> Reply:
        body = await self._read(receive)
        served = self._pick(scope)
        content_type = header(scope, b"content-type")
        columns = payloads.parse_mlflow(body, content_type, served.signature)
        answer = await self._answer(scope, columns, served)
        version = answer.served
        return json_reply(
            {"predictions": jsonable(answer.output)},
            endpoint="invocations",
            model=version.model,
            version=version.version,
            headers=[(b"x-mloop-model-version", version.label.encode())],
        )

    async def _infer(self, scope: Scope, path: str, receive: Receive) -> Reply:
        name, version, rest = model_path(path)
        if rest != "infer":
            raise NoRouteError("POST", path)
        pinned = self._find(name, version)
        body = await self._read(receive)
        served = pinned or self._pick(scope)
        request = oip.parse_oip(body, served.signature, header_length=header_length(scope))
        answer = await self._answer(scope, request.columns, served, request.request_id)
        answered = answer.served
        outputs, binary = oip.oip_outputs(
            answer.output, answered.signature, request.outputs, binary=request.binary_outputs
        )
        result: dict[str, Any] = {
            "model_name": answered.model,
            "model_version": answered.version,
            "outputs": outputs,
        }
        if request.request_id:
            result["id"] = request.request_id
        reply = json_reply(result, endpoint="infer", model=answered.model, version=answered.version)
        if request.binary_outputs:
            reply.extra.append((oip.HEADER_LENGTH, str(len(reply.body)).encode()))
            reply.body += binary
            reply.content_type = b"application/octet-stream"
        return reply

    async def _answer(
        self,
        scope: Scope,
        columns: Columns,
        served: ServedVersion,
        request_id: str = "",
    ) -> Any:
        tag: str | int = request_id or header(scope, REQUEST_ID)
        if not tag and self._new_request_id is not None:
            tag = self._new_request_id()
        return await self.service.predict(columns, served=served, request_id=tag)

    def _shadowed(
        self,
        request: ShadowRequest,
        shadow: ServedVersion,
        columns: Columns,
        output: Any,
        latency_s: float,
    ) -> None:
        import numpy as np

        primary = request.primary
        live, copy = np.asarray(request.output), np.asarray(output)
        agreed = int(np.sum(rows_equal(live, copy))) if live.shape == copy.shape else 0
        counter = self.metrics.shadow
        labels = (primary.model, primary.version, shadow.version)
        counter.labels(*labels, "true").inc(agreed)
        counter.labels(*labels, "false").inc(request.rows - agreed)

    def _find(self, name: str, version: str) -> ServedVersion | None:
        """The version an OIP path pins (None: let the router pick).

        Raises:
            NotFoundError: the server serves no such model, or has no such version loaded.
        """
        served = self.service.served()
        names = {s.model for s in served.values()}
        if name not in names and name != self.config.deployment:
            raise NotFoundError(
                f"this server does not serve a model named {name!r}; it serves "
                f"{', '.join(sorted(names))}"
            )
        if not version:
            return None
        for candidate in served.values():
            if candidate.version == version:
                return candidate
        loaded = ", ".join(sorted(s.version for s in served.values() if s.version))
        raise NotFoundError(
            f"version {version} of {name!r} is not loaded on this server (loaded: "
            f"{loaded or 'none'}); omit the version to let the server route"
        )


def _tune_collector() -> None:
    """Garbage-collector settings for a serving process, once it has started.

    What start-up built (modules, the models) lives as long as the server: frozen, out of the
    collector's sight, a full collection walks only what serving made since. And the young
    generation is collected after 50,000 net allocations rather than 700: the request path
    frees what it allocates (with logging off, no collection ran at all under load), but the
    prediction log keeps each request's small tuples for up to half a second, and with the
    default threshold the collector walked them again and again (about 1 us per request, more
    than 1% of the core, at 15,000 requests/s), and full collections walked every module's
    objects.
    """
    gc.freeze()
    gc.set_threshold(50_000, 10, 10)
