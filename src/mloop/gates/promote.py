"""`promote_version`: validate (or reuse a report), then move the alias, or refuse with numbers.

The alias moves through the registry's `set_alias` (one atomic upsert that enforces protected
aliases and approvals, audited as `model.alias.set`). A refused promotion raises
`GatesFailedError` listing every failing gate. An admin may override failing gates with a reason:
the registry's `override_alias` records the override (`model_version.promote_override`, with the
reason and the failures), the admin's approval when the alias is protected and the version has
none, and the alias move in one transaction, so the log never shows an override that did not
happen. Who counts as an admin is the store's decision: a global admin of its users, or anyone on
a store without users (a laptop); over REST the server decides from the authenticated user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mloop.entities.gates import Override
from mloop.errors import AliasNotFoundError, GatesFailedError, InvalidInputError
from mloop.gates.validate import Validation, resolve_version, validate_version

if TYPE_CHECKING:
    from mloop.entities import ModelVersion
    from mloop.gates.evaluation import ModelLoader
    from mloop.gates.policy import Policy
    from mloop.storage import Store


@dataclass(frozen=True)
class Promotion:
    """What a promotion did.

    Attributes:
        name: the registered model.
        version: the version that took the alias.
        alias: the alias moved.
        previous: the version the alias pointed at before, or None.
        validation: the validation that allowed it (None without a policy).
        overridden: failing gates that an admin override let through (empty normally).
        reason: the override's reason, or None.
    """

    name: str
    version: int
    alias: str
    previous: int | None
    validation: Validation | None
    overridden: tuple[str, ...] = ()
    reason: str | None = None


def promote_version(
    store: Store,
    reference: str | ModelVersion,
    alias: str,
    *,
    actor: str,
    policy: Policy | None = None,
    override_reason: str | None = None,
    loader: ModelLoader | None = None,
    trusted: bool = False,
) -> Promotion:
    """Point `alias` at a version once it passes the policy's gates.

    Args:
        store: the metadata store.
        reference: the version (`NAME/N`, `models:/NAME/N` or a `ModelVersion`).
        alias: the alias to move, e.g. "champion".
        actor: who promotes (audited).
        policy: the gates to pass; None moves the alias under the registry's rules only.
        override_reason: an admin's reason to promote despite failing gates.
        loader: loads a version's package (default: download it from the store).
        trusted: allow loading pickled models (with the default loader).

    Returns:
        The promotion.

    Raises:
        GatesFailedError: a gate failed and there is no override (each failure is listed).
        PermissionDeniedError: an override by a user who is not an admin.
        InvalidInputError: an empty override reason.
        ProtectedAliasError: the alias is protected and the version is not approved.
        NotFoundError: the version or the holdout does not exist.
    """
    version = resolve_version(store, reference)
    if override_reason is not None and not override_reason.strip():
        raise InvalidInputError("an override needs a reason (--reason '...')", field="reason")
    validation = None
    failures: list[str] = []
    if policy is not None:
        validation = validate_version(
            store,
            version,
            policy,
            actor=actor,
            alias=alias,
            reuse=True,
            loader=loader,
            trusted=trusted,
        )
        failures = validation.report.failures
    if failures and override_reason is None:
        raise GatesFailedError(version.name, version.version, alias, failures)
    if failures and override_reason is not None:
        override = Override(
            reason=override_reason,
            failures=tuple(failures),
            report_digest=validation.record.report_digest if validation else None,
        )
        previous = store.registry.override_alias(
            version.name, alias, version.version, actor=actor, override=override
        )
    else:
        previous = _holder(store, version.name, alias)
        store.registry.set_alias(version.name, alias, version.version, actor=actor)
    return Promotion(
        name=version.name,
        version=version.version,
        alias=alias,
        previous=previous,
        validation=validation,
        overridden=tuple(failures),
        reason=override_reason if failures else None,
    )


def _holder(store: Store, name: str, alias: str) -> int | None:
    try:
        return store.registry.get_version_by_alias(name, alias).version
    except AliasNotFoundError:
        return None
