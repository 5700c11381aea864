"""Which role a request needs, and which experiments it touches.

One table covers every route, mloop's `/api/v1` and MLflow's `/api/2.0/mlflow` alike, by method
and path, so routes added later are protected without registering anything. First match wins:

| requests                                                        | need                       |
|-----------------------------------------------------------------|----------------------------|
| `GET /health`, `GET /ready`                                     | nothing (open)             |
| `GET /api/v1/auth/whoami`                                       | any valid credentials      |
| `/api/v1/users...`, `/api/v1/tokens...` (any method)            | global admin               |
| `POST /api/v1/models/{name}/aliases/{alias}/override`           | global admin               |
| `/api/v1/experiments/{id}/roles...` (any method)                | admin in that experiment   |
| `POST .../search` (mloop and MLflow searches are POSTs)         | reader                     |
| `POST /api/v1/blobs/missing` (a lookup of many digests)         | reader                     |
| MLflow's `POST .../get-by-name`, `.../get` style reads in POSTs | reader                     |
| any other `GET`, `HEAD`, `OPTIONS` (API, UI, `/metrics`, docs)  | reader                     |
| any other method (`POST`, `PUT`, `PATCH`, `DELETE`)             | editor                     |

"reader", "editor" and experiment "admin" are checked in the request's experiments when it
names any, else against the global role. A request names experiments by (`scope_of`):

- an experiment id in the path (`/experiments/{id}`) or an MLflow artifact path
  (`/mlflow-artifacts/artifacts/{id}/...`, with the run id after it for run artifacts);
- `experiment_id` / `experiment_ids` in the query string or the JSON body;
- a run id in the path (`/runs/{run_id}`), or `run_id` / `run_uuid` in the query string or the
  JSON body (also `share_artifacts_run_id`, a run whose files a new run links): the run's
  experiment;
- `experiment_name` in the query string or JSON body (MLflow's get-by-name), or `name` in the
  query of `/experiments/by-name`: that experiment;
- an MLflow 3 logged model id (`m-<32 hex>`) in the path (`/logged-models/{id}`) or `model_id`
  in the query string or JSON body: the model's experiment.

A run or experiment name that does not exist resolves to nothing, so the global role decides;
the route then answers 404 to whoever may read. When a request names several experiments, the
user needs the role in every one of them.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from mloop.entities.auth import Role


class Need(enum.Enum):
    """What a request needs beyond a role: nothing, any user, or the global admin role."""

    OPEN = "open"
    AUTHENTICATED = "authenticated"
    ROLE = "role"
    GLOBAL_ADMIN = "global_admin"


@dataclass(frozen=True, slots=True)
class Requirement:
    """What one request needs.

    Attributes:
        need: open, any user, a role, or the global admin role.
        role: the role needed (for `Need.ROLE`), in the request's experiments or globally.
    """

    need: Need
    role: Role | None = None


OPEN = Requirement(Need.OPEN)
AUTHENTICATED = Requirement(Need.AUTHENTICATED)
GLOBAL_ADMIN = Requirement(Need.GLOBAL_ADMIN, Role.ADMIN)
READ = Requirement(Need.ROLE, Role.READER)
WRITE = Requirement(Need.ROLE, Role.EDITOR)
MANAGE = Requirement(Need.ROLE, Role.ADMIN)

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# (methods or None for any, path pattern, requirement); first match wins.
RULES: tuple[tuple[frozenset[str] | None, re.Pattern[str], Requirement], ...] = (
    (frozenset({"GET", "HEAD"}), re.compile(r"^/(health|ready)/?$"), OPEN),
    (frozenset({"GET"}), re.compile(r"^/api/v1/auth/whoami/?$"), AUTHENTICATED),
    (None, re.compile(r"^/api/v1/(users|tokens)(/|$)"), GLOBAL_ADMIN),
    # Promoting past failing validation gates is an admin's call (the model name may hold any
    # decoded character, so the match is on the route's ending).
    (
        frozenset({"POST"}),
        re.compile(r"^/api/v1/models/.+/aliases/[^/]+/override/?$"),
        GLOBAL_ADMIN,
    ),
    (None, re.compile(r"^/api/v1/experiments/\d+/roles(/|$)"), MANAGE),
    (frozenset({"POST"}), re.compile(r"/search/?$"), READ),
    # Which blobs the server lacks: a lookup, sent as POST for its long list of digests.
    (frozenset({"POST"}), re.compile(r"^/api/v1/blobs/missing/?$"), READ),
    # MLflow reads sent as POST by some clients (bulk metric history, trace searches ...).
    (frozenset({"POST"}), re.compile(r"^/(ajax-)?api/2\.0/mlflow/.*/get[-a-z]*/?$"), READ),
)

_EXPERIMENT_IN_PATH = re.compile(r"/experiments/(\d+)(?:/|$)")
_RUN_IN_PATH = re.compile(r"/runs/([0-9a-f]{32})(?:/|$)")
# MLflow artifact paths start with the experiment: `<exp>/<run>/artifacts/...` for runs,
# `<exp>/models/<model id>/artifacts/...` for logged models.
_MLFLOW_ARTIFACT_PATH = re.compile(r"/mlflow-artifacts/artifacts/(\d+)(?:/|$)")
_MODEL_IN_PATH = re.compile(r"/(?:logged-models|models)/(m-[0-9a-f]{32})(?:/|$)")
_MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")
_BY_NAME_PATH = re.compile(r"/experiments/(get-)?by-name/?$")
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_EXPERIMENT_ID = re.compile(r"^\d{1,18}$")


def requirement_for(method: str, path: str) -> Requirement:
    """What a request with this method and path needs (see the module's table)."""
    for methods, pattern, requirement in RULES:
        if (methods is None or method in methods) and pattern.search(path):
            return requirement
    return READ if method in _READ_METHODS else WRITE


@dataclass(slots=True)
class Scope:
    """The experiments a request names, directly or through runs and names.

    Attributes:
        experiment_ids: experiment ids named directly.
        run_ids: run ids, each of which names its run's experiment.
        experiment_names: experiment names (MLflow's get-by-name).
        model_ids: MLflow 3 logged model ids (`m-<32 hex>`), each naming its experiment.
    """

    experiment_ids: set[str] = field(default_factory=set)
    run_ids: set[str] = field(default_factory=set)
    experiment_names: set[str] = field(default_factory=set)
    model_ids: set[str] = field(default_factory=set)

    @property
    def is_empty(self) -> bool:
        """True when the request names no experiment in any way."""
        return not (self.experiment_ids or self.run_ids or self.experiment_names or self.model_ids)


def scope_of(path: str, query_string: bytes, body: Any) -> Scope:
    """The experiments, runs and experiment names a request names.

    Args:
        path: the URL path.
        query_string: the raw query string.
        body: the parsed JSON body, or None.
    """
    scope = Scope()
    scope.experiment_ids.update(_EXPERIMENT_IN_PATH.findall(path))
    scope.experiment_ids.update(_MLFLOW_ARTIFACT_PATH.findall(path))
    scope.run_ids.update(_RUN_IN_PATH.findall(path))
    scope.run_ids.update(_run_segments(path))
    scope.model_ids.update(_MODEL_IN_PATH.findall(path))
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=False)
    _collect(scope, pairs)
    if _BY_NAME_PATH.search(path):
        # mloop's `/experiments/by-name?name=...`.
        scope.experiment_names.update(value for key, value in pairs if key == "name")
    if isinstance(body, dict):
        _collect(scope, _flatten(body))
    # Ids that could not be ids are left to the route to reject; they name nothing.
    scope.experiment_ids = {e for e in scope.experiment_ids if _EXPERIMENT_ID.match(e)}
    scope.run_ids = {r for r in scope.run_ids if _RUN_ID.match(r)}
    scope.model_ids = {m for m in scope.model_ids if _MODEL_ID.match(m)}
    return scope


def _run_segments(path: str) -> list[str]:
    """Run ids in an MLflow artifact path (`<exp>/<run>/artifacts/...`)."""
    if _MLFLOW_ARTIFACT_PATH.search(path) is None:
        return []
    return [segment for segment in path.split("/") if _RUN_ID.match(segment)]


def _flatten(body: dict[str, Any]) -> Iterable[tuple[str, str]]:
    for key, value in body.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, str | int) and not isinstance(item, bool):
                yield key, str(item)


def _collect(scope: Scope, pairs: Iterable[tuple[str, str]]) -> None:
    for key, value in pairs:
        if key in ("experiment_id", "experiment_ids"):
            scope.experiment_ids.add(value)
        elif key in ("run_id", "run_uuid", "share_artifacts_run_id"):
            scope.run_ids.add(value)
        elif key == "experiment_name":
            scope.experiment_names.add(value)
        elif key == "model_id":
            scope.model_ids.add(value)


def parse_json_body(raw: bytes) -> Any:
    """The JSON value of a body, or None when it is not JSON (the route will say so)."""
    try:
        return json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        return None
