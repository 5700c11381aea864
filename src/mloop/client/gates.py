"""Fluent validation gates on the default store: `mloop.models.validate` and `.promote`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from mloop.client.context import get_store

if TYPE_CHECKING:
    from mloop.entities import ModelVersion
    from mloop.gates import Policy, Promotion, Validation
    from mloop.gates.evaluation import ModelLoader
    from mloop.models import LoadedModel


def _actor() -> str:
    from mloop.tracking.environment import current_user

    return current_user()


def _policy(policy: Policy | str | os.PathLike[str]) -> Policy:
    from mloop.gates import Policy, load_policy

    return policy if isinstance(policy, Policy) else load_policy(policy)


def version_loader(trusted: bool = False) -> ModelLoader:
    """Loads versions through the client's package cache (each package is fetched once)."""
    from mloop.client.models import resolve_package_folder
    from mloop.models import load_package

    def load(version: ModelVersion) -> LoadedModel:
        return load_package(resolve_package_folder(version.source), trusted=trusted)

    return load


def validate(
    model: str,
    policy: Policy | str | os.PathLike[str],
    *,
    alias: str | None = None,
    trusted: bool = False,
) -> Validation:
    """Evaluate a policy's gates on a model version and store the report with the version.

    Args:
        model: the version: `churn/7`, `models:/churn/7` or `churn@challenger`.
        policy: a policy file (`mloop-policy.yaml`) or a parsed `Policy`.
        alias: the alias the version is meant to take (for the approval gate); by default the
            champion gate's alias.
        trusted: allow loading pickled models.

    Returns:
        The `Validation`: `.passed`, `.report` (every gate's numbers), `.record` (the stored row).

    Raises:
        PolicyFileError: the policy file is malformed (file, line and field named).
        NotFoundError: the version or the holdout does not exist.

    Example:
        >>> result = mloop.models.validate("churn/7", "mloop-policy.yaml")
        >>> result.passed, result.report.failures
        (False, ['fairness: gender: DP difference 0.1830 > max 0.1'])
    """
    from mloop.gates import validate_version

    return validate_version(
        get_store(),
        model,
        _policy(policy),
        actor=_actor(),
        alias=alias,
        loader=version_loader(trusted),
    )


def promote(
    model: str,
    alias: str,
    *,
    policy: Policy | str | os.PathLike[str] | None = None,
    override_reason: str | None = None,
    trusted: bool = False,
) -> Promotion:
    """Move `alias` to a model version once it passes the policy (or reuse a stored report).

    Args:
        model: the version: `churn/7` or `models:/churn/7`.
        alias: the alias to move, e.g. "champion".
        policy: a policy file or `Policy`; None moves the alias under the registry's rules
            only (protected aliases still need an approved version).
        override_reason: an admin's reason to promote despite failing gates (audited).
        trusted: allow loading pickled models.

    Returns:
        The `Promotion` (the previous holder, the validation, any overridden failures).

    Raises:
        GatesFailedError: a gate failed; every failing gate is listed with its numbers.
        PermissionDeniedError: an override by someone who is not an admin.
        ProtectedAliasError: the alias is protected and the version is not approved.
    """
    from mloop.gates import promote_version

    return promote_version(
        get_store(),
        model,
        alias,
        actor=_actor(),
        policy=_policy(policy) if policy is not None else None,
        override_reason=override_reason,
        loader=version_loader(trusted),
    )
