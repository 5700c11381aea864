"""Where served models come from: references resolved through the store and the client's cache.

A `models:/` reference is resolved in the registry on every refresh (so a moved alias is seen)
and its package fetched into the client's package cache (`.mloop/cache/models/`) once per
version; a `runs:/` reference or a folder names one package for good. A deployment becomes a
`Split` of `models:/NAME@alias` or `models:/NAME/N` references.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from mloop.serving.router import Split
from mloop.serving.service import Resolved

if TYPE_CHECKING:
    from mloop.entities.deployments import Deployment
    from mloop.storage import Store


class StoreResolver:
    """Resolves references against a store.

    Args:
        store: returns the metadata store (called only for `models:/` references).
        name: the model name to report for references outside the registry.
    """

    def __init__(self, store: Callable[[], Store], *, name: str | None = None) -> None:
        self.store = store
        self.name = name

    def __call__(self, reference: str) -> Resolved:
        """What `reference` names now.

        Raises:
            InvalidModelReferenceError, NotFoundError: as `mloop.registry.resolve` raises them.
        """
        from mloop.client.models import MODELS_SCHEME, resolve_package_folder

        if reference.startswith(MODELS_SCHEME):
            from mloop.registry import resolve

            version = resolve(self.store().registry, reference)
            source = version.source
            return Resolved(
                version.name,
                str(version.version),
                source,
                lambda: resolve_package_folder(source),
            )
        return Resolved(
            self.name or _name_of(reference),
            "",
            reference,
            lambda: resolve_package_folder(reference),
        )


def _name_of(reference: str) -> str:
    """A model name for a package outside the registry: its folder's or artifact path's name."""
    if reference.startswith("runs:/"):
        return PurePosixPath(reference.removeprefix("runs:/")).name or "model"
    return Path(reference.removeprefix("file://")).resolve().name or "model"


def deployment_split(deployment: Deployment) -> Split:
    """The split of a stored deployment: its routes' weights and its shadows, as references."""
    weights = {
        route.target.uri(deployment.model): float(route.weight) for route in deployment.routes
    }
    shadows = tuple(target.uri(deployment.model) for target in deployment.shadows)
    return Split(weights, shadows)
