"""Errors of model packages: saving, loading, trusting and predicting."""

from __future__ import annotations

from mloop.errors.base import InvalidInputError, NotFoundError, StorageError


class ModelPackageNotFoundError(NotFoundError):
    """A folder (or artifact path) holds no model package."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"no model package at {path}: there is no mloop-model.yaml; log one with "
            "mloop.log_model(model, 'model') or check the path (e.g. runs:/<run_id>/model)"
        )
        self.path = path


class InvalidModelPackageError(InvalidInputError):
    """A model package's `mloop-model.yaml` breaks the package format."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(
            f"model package at {path} is not valid: {problem}; write packages with "
            "mloop.models.save_model or mloop.log_model",
            field="model_package",
        )
        self.path = path


class UnsupportedModelError(InvalidInputError):
    """No model flavor can save the object."""

    def __init__(self, model_type: str, problem: str) -> None:
        super().__init__(f"cannot save a {model_type} as a model package: {problem}", field="model")
        self.model_type = model_type


class UntrustedModelError(InvalidInputError):
    """Loading the model would run code or trust types that are not on the allow-list.

    Attributes:
        path: the model file.
        types: the fully qualified names of the types (or "pickle") that were refused.
    """

    def __init__(self, path: str, types: list[str], hint: str) -> None:
        super().__init__(
            f"refused to load {path}: it needs {', '.join(types)}, which mloop does not trust "
            f"by default; {hint}",
            field="trusted",
        )
        self.path = path
        self.types = types


class ModelInputError(InvalidInputError):
    """Prediction input that does not fit the model's signature; `column` names the culprit."""

    def __init__(self, column: str, problem: str) -> None:
        super().__init__(f"input column {column!r} {problem}", field=column)
        self.column = column


class CorruptModelPackageError(StorageError):
    """A file of a model package no longer matches the digest recorded when it was saved."""

    def __init__(self, path: str, file: str) -> None:
        super().__init__(
            f"model package at {path} is damaged: {file} does not match the digest in "
            "mloop-model.yaml; log the model again (or restore the file) before loading it"
        )
        self.path = path
        self.file = file
