"""What a verdict depends on besides the policy, resolved before anything is evaluated.

The holdout and training data versions, the champion's version and package, and the approval
state are metadata lookups. The evaluated gates (schema, metrics, champion, fairness, drift,
latency, size) depend on the model, the data and the version holding the champion gate's alias
(the alias compared against), never on the alias the version is to take: their digest is the
reuse key. The approval gate depends on the target alias and the approvals; it is cheap and is
checked again whenever a report is reused (`validate.validate_version`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mloop.errors import AliasNotFoundError, MloopError

if TYPE_CHECKING:
    from mloop.entities import ModelVersion
    from mloop.entities.datasets import DatasetVersion
    from mloop.gates.policy import Policy
    from mloop.storage import Store


# What only the approval gate depends on (re-checked on reuse, not part of the digest).
_APPROVAL_KEYS = ("alias", "alias_protected", "approvals")


@dataclass(frozen=True)
class Inputs:
    """The resolved inputs of one validation.

    Attributes:
        version: the model version validated.
        holdout: the holdout dataset version.
        training: the training dataset version (drift gate), or None.
        training_error: why no training data was found, when the drift gate needs it.
        champion: the version holding the champion gate's alias, or None.
        alias: the alias the version is to take (approval gate), or None.
        is_protected: whether that alias is protected.
    """

    version: ModelVersion
    holdout: DatasetVersion
    training: DatasetVersion | None
    training_error: str | None
    champion: ModelVersion | None
    alias: str | None
    is_protected: bool

    def to_dict(self) -> dict[str, Any]:
        """The JSON form recorded in the report."""
        return {
            "model": {"uri": self.version.uri, "package_digest": self.version.package_digest},
            "holdout": _dataset(self.holdout),
            "training": _dataset(self.training) if self.training else None,
            "champion": {
                "uri": self.champion.uri,
                "package_digest": self.champion.package_digest,
            }
            if self.champion
            else None,
            "alias": self.alias,
            "alias_protected": self.is_protected,
            "approvals": len(self.version.approvals),
        }

    def evaluated(self) -> dict[str, Any]:
        """What the evaluated gates depend on: `to_dict` without the target alias and approvals."""
        data = self.to_dict()
        for key in _APPROVAL_KEYS:
            del data[key]
        return data

    @property
    def digest(self) -> str:
        """SHA-256 over `evaluated`: the same model, data and champion give the same digest."""
        text = json.dumps(self.evaluated(), sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _dataset(version: DatasetVersion) -> dict[str, Any]:
    return {"uri": version.uri, "digest": version.digest, "rows": version.row_count}


def resolve_inputs(
    store: Store, version: ModelVersion, policy: Policy, *, alias: str | None
) -> Inputs:
    """Look up every input of a validation.

    Raises:
        DatasetNotFoundError, DatasetVersionNotFoundError: the holdout does not exist.
        InvalidDatasetReferenceError: the holdout reference is malformed.
    """
    from mloop.data.refs import resolve

    holdout = resolve(store, policy.holdout)
    training, training_error = None, None
    if policy.drift is not None:
        try:
            training = _training_data(store, version, policy.drift.training_data)
        except MloopError as exc:
            training_error = str(exc)
    champion = None
    if policy.champion is not None:
        try:
            champion = store.registry.get_version_by_alias(version.name, policy.champion.alias)
        except AliasNotFoundError:
            champion = None
    target = alias or (policy.champion.alias if policy.champion else None)
    protected = store.registry.get_model(version.name).protected_aliases
    return Inputs(
        version=version,
        holdout=holdout,
        training=training,
        training_error=training_error,
        champion=champion,
        alias=target,
        is_protected=target is not None and target in protected,
    )


def _training_data(store: Store, version: ModelVersion, named: str | None) -> DatasetVersion:
    """The policy's training data, else the input the version's run logged as "training"."""
    from mloop.data.refs import resolve
    from mloop.errors import InvalidInputError

    if named is not None:
        return resolve(store, named)
    for item in version.datasets:
        if item.context != "training":
            continue
        for candidate in store.datasets.find_by_digest(item.digest):
            if candidate.name == item.name:
                return candidate
        raise InvalidInputError(
            f"the training input {item.name} ({item.digest[:16]}...) of {version.uri}'s run is "
            "not a dataset version in this store; name one in gates.drift.training_data",
            field="gates.drift.training_data",
        )
    raise InvalidInputError(
        f"{version.uri}'s run logged no input with context 'training'; name the training data "
        "in gates.drift.training_data",
        field="gates.drift.training_data",
    )
