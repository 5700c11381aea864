"""Errors of datasets, their versions and references, data schemas and DVC imports."""

from __future__ import annotations

from mloop.errors.base import FileFormatError, InvalidInputError, NotFoundError


class SchemaFileError(FileFormatError):
    """A data schema file (or mapping) breaks the schema format; `field` is the dotted location.

    Attributes:
        path: the file, when the schema came from one.
        line: the 1-based line of the offending field, when known.
    """

    subject = "schema"


class DataValidationError(InvalidInputError):
    """Data broke one or more error-severity rules of its schema.

    Attributes:
        result: the full validation result (a `mloop.data.ValidationResult`).
    """

    def __init__(self, message: str, *, result: object) -> None:
        super().__init__(message, field="data")
        self.result = result


class DatasetNotFoundError(NotFoundError):
    """No dataset with the given name."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"dataset {name!r} does not exist; `mloop data list` shows the datasets there are, "
            f"`mloop data add PATH --name {name}` makes one"
        )
        self.name = name


class DatasetVersionNotFoundError(NotFoundError):
    """A dataset has no such version (number, alias, or content digest)."""

    def __init__(self, name: str, version: str) -> None:
        if name:
            message = (
                f"dataset {name!r} has no version {version!r}; `mloop data show {name}` lists "
                "its versions and aliases"
            )
        else:  # looked up by content digest, in every dataset
            message = (
                f"no dataset version has the content digest {version}; `mloop data list` shows "
                "the datasets there are"
            )
        super().__init__(message)
        self.name = name
        self.version = version


class InvalidDatasetReferenceError(InvalidInputError):
    """Text that is not a dataset reference."""

    def __init__(self, reference: str) -> None:
        super().__init__(
            f"{reference!r} is not a dataset reference; use datasets:/NAME/3, "
            "datasets:/NAME/latest, datasets:/NAME@ALIAS, a 64-hex content digest, or NAME/3",
            field="reference",
        )
        self.reference = reference


class DvcImportError(InvalidInputError):
    """A DVC repository file or cache entry cannot be read as DVC writes it."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"cannot import {path} from DVC: {problem}", field="path")
        self.path = path
