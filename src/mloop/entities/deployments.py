"""Deployments: a named traffic split between versions of one registered model, with history.

A deployment routes requests to *targets* of its model: an alias (`@champion`), resolved when
the server serves it so that moving the alias moves the traffic, or a fixed version (`/3`).
Every change makes a new revision; earlier revisions are kept so a rollback is one more revision
equal to an earlier one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from mloop.entities.registry import validate_alias, validate_version
from mloop.errors import InvalidInputError

MAX_DEPLOYMENT_NAME_LENGTH = 63
MAX_ROUTES = 10
MAX_SHADOWS = 5
MAX_STICKY_KEY_LENGTH = 128
# A DNS-1123 label, so a deployment's name is usable as is in Kubernetes objects and URL paths.
_DEPLOYMENT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
# A request header or JSON field name.
_STICKY_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True, slots=True)
class Target:
    """A version of the deployment's model: an alias (resolved at serve time) or a version.

    Exactly one of `alias` and `version` is set. Its text form is the suffix of a model
    reference: `@champion` or `/3`, so `models:/churn` + text is the full reference.

    Attributes:
        alias: an alias such as "champion".
        version: a fixed version number.
    """

    alias: str | None = None
    version: int | None = None

    def __post_init__(self) -> None:
        if (self.alias is None) == (self.version is None):
            raise InvalidInputError(
                "a deployment target is either an alias or a version, not both or neither",
                field="target",
            )

    @classmethod
    def parse(cls, text: object) -> Target:
        """Read `@champion`, `champion`, `/3` or `3`.

        Raises:
            InvalidInputError: anything else (`latest` included: pin a version or use an alias).
        """
        if isinstance(text, Target):
            return text
        if not isinstance(text, str) or not text.strip():
            raise _bad_target(text)
        body = text.strip()
        if body.startswith("/"):
            body = body[1:]
            if not body.isdigit():
                raise _bad_target(text)
        elif body.startswith("@"):
            body = body[1:]
        try:
            if body.isascii() and body.isdigit():
                return cls(version=validate_version(body))
            return cls(alias=validate_alias(body))
        except InvalidInputError as exc:
            raise _bad_target(text, exc.message) from exc

    @property
    def text(self) -> str:
        """`@alias` or `/version`."""
        return f"@{self.alias}" if self.alias is not None else f"/{self.version}"

    def uri(self, model: str) -> str:
        """The model reference this target names, e.g. `models:/churn@champion`."""
        return f"models:/{model}{self.text}"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Route:
    """A share of a deployment's live traffic.

    Attributes:
        target: the version (or alias) that answers this share.
        weight: percent of the requests, 0-100; the routes of a deployment sum to 100.
    """

    target: Target
    weight: int

    @classmethod
    def parse(cls, text: str) -> Route:
        """Read `TARGET=WEIGHT`, e.g. `champion=90`, `@challenger=10` or `3=50`.

        Raises:
            InvalidInputError: not of that form.
        """
        target, sep, weight = text.rpartition("=")
        if not sep or not weight.strip().isdigit():
            raise InvalidInputError(
                f"route {text!r} is not TARGET=PERCENT (e.g. champion=90, @challenger=10, 3=50)",
                field="routes",
            )
        return cls(Target.parse(target), int(weight))


@dataclass(frozen=True, slots=True)
class Deployment:
    """A named, stored serving configuration of one registered model.

    Attributes:
        name: unique name, a DNS label such as "churn-api".
        model: the registered model it serves.
        routes: the live traffic split; weights sum to 100.
        shadows: targets that get a copy of the traffic; their answers are logged, never returned.
        sticky_key: request header or JSON field whose value pins a caller to one route (A/B
            tests), or None for independent random routing.
        description: free text.
        revision: 1 for the first configuration, one more for every change or rollback.
        created_at_ms: creation time, milliseconds since the epoch.
        created_by: who created it.
        updated_at_ms: when the current revision was made.
        updated_by: who made it.
    """

    name: str
    model: str
    routes: tuple[Route, ...]
    shadows: tuple[Target, ...] = ()
    sticky_key: str | None = None
    description: str = ""
    revision: int = 1
    created_at_ms: int = 0
    created_by: str = ""
    updated_at_ms: int = 0
    updated_by: str = ""

    @property
    def targets(self) -> tuple[Target, ...]:
        """Every target it needs loaded: the routes', then the shadows'."""
        return tuple(r.target for r in self.routes) + self.shadows


@dataclass(frozen=True, slots=True)
class DeploymentRevision:
    """One configuration a deployment had, as kept in its history.

    Attributes:
        name: the deployment.
        revision: its number.
        action: "create", "update" or "rollback".
        actor: who made it.
        at_ms: when, milliseconds since the epoch.
        model: the model served.
        routes: the traffic split.
        shadows: the shadow targets.
        sticky_key: the sticky routing key, or None.
        description: the description.
        restored_from: for a rollback, the revision whose configuration it restored.
    """

    name: str
    revision: int
    action: str
    actor: str
    at_ms: int
    model: str
    routes: tuple[Route, ...]
    shadows: tuple[Target, ...] = ()
    sticky_key: str | None = None
    description: str = ""
    restored_from: int | None = None


def validate_deployment_name(name: object) -> str:
    """Check a deployment name: a DNS label (lowercase letters, digits, inner `-`, <= 63).

    Raises:
        InvalidInputError: anything else.
    """
    if (
        not isinstance(name, str)
        or len(name) > MAX_DEPLOYMENT_NAME_LENGTH
        or not _DEPLOYMENT_NAME.match(name)
    ):
        raise InvalidInputError(
            f"deployment name {name!r} is not allowed; use lowercase letters, digits and inner "
            f"'-' (at most {MAX_DEPLOYMENT_NAME_LENGTH} characters, e.g. churn-api), so it can "
            "name Kubernetes objects too",
            field="name",
        )
    return name


def validate_sticky_key(key: object) -> str | None:
    """Check a sticky routing key; None (or "") means no sticky routing.

    Raises:
        InvalidInputError: not a header or field name of at most 128 characters.
    """
    if key is None or key == "":
        return None
    if not isinstance(key, str) or len(key) > MAX_STICKY_KEY_LENGTH or not _STICKY_KEY.match(key):
        raise InvalidInputError(
            f"sticky key {key!r} is not allowed; name a request header or JSON field (letters, "
            f"digits, '_', '-', '.', starting with a letter or '_', at most "
            f"{MAX_STICKY_KEY_LENGTH} characters), e.g. user_id",
            field="sticky_key",
        )
    return key


def normalize_routes(routes: Sequence[Route] | Mapping[str, int]) -> tuple[Route, ...]:
    """Check a traffic split: 1-10 distinct targets, whole percents summing to 100.

    Args:
        routes: `Route` objects, or a mapping of target text to percent
            (`{"champion": 90, "challenger": 10}`).

    Raises:
        InvalidInputError: a target is malformed or repeated, a weight is not an integer in
            0-100, or the weights do not sum to 100.
    """
    items = (
        [Route(Target.parse(t), w) for t, w in routes.items()]
        if isinstance(routes, Mapping)
        else list(routes)
    )
    if not items or len(items) > MAX_ROUTES:
        raise InvalidInputError(
            f"a deployment needs 1 to {MAX_ROUTES} routes (e.g. champion=90 challenger=10), "
            f"got {len(items)}",
            field="routes",
        )
    for route in items:
        if not isinstance(route, Route):
            raise InvalidInputError(f"{route!r} is not a Route", field="routes")
        weight = route.weight
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
            raise InvalidInputError(
                f"route {route.target} has weight {weight!r}; weights are whole percents 0-100",
                field="routes",
            )
    _check_distinct([r.target for r in items], field_name="routes")
    total = sum(r.weight for r in items)
    if total != 100:
        split = ", ".join(f"{r.target}={r.weight}" for r in items)
        raise InvalidInputError(
            f"route weights must sum to 100, but {split} sums to {total}", field="routes"
        )
    return tuple(items)


def normalize_shadows(
    shadows: Iterable[Target | str], routes: Sequence[Route] = ()
) -> tuple[Target, ...]:
    """Check shadow targets: at most 5, distinct, none that already takes live traffic.

    Raises:
        InvalidInputError: a target is malformed, repeated, or also a route.
    """
    items = [Target.parse(s) for s in shadows]
    if len(items) > MAX_SHADOWS:
        raise InvalidInputError(
            f"a deployment takes at most {MAX_SHADOWS} shadow targets, got {len(items)}",
            field="shadows",
        )
    _check_distinct(items, field_name="shadows")
    live = {r.target for r in routes}
    for shadow in items:
        if shadow in live:
            raise InvalidInputError(
                f"shadow {shadow} already takes live traffic as a route; a shadow gets a copy of "
                "the traffic of versions that are not routed",
                field="shadows",
            )
    return tuple(items)


def _check_distinct(targets: Sequence[Target], *, field_name: str) -> None:
    seen: set[Target] = set()
    for target in targets:
        if target in seen:
            raise InvalidInputError(f"{target} is listed twice in {field_name}", field=field_name)
        seen.add(target)


def _bad_target(text: object, problem: str = "") -> InvalidInputError:
    why = f" ({problem})" if problem else ""
    return InvalidInputError(
        f"deployment target {text!r} is not an alias or version{why}; use an alias such as "
        "champion (or @champion) or a version number such as 3 (or /3)",
        field="target",
    )
