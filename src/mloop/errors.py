"""The exception tree every mloop error belongs to.

```
MloopError
├── NotFoundError
│   ├── UserNotFoundError            .name
│   ├── TokenNotFoundError           .token_id
│   ├── ExperimentNotFoundError      .experiment
│   ├── RunNotFoundError             .run_id
│   ├── BlobNotFoundError            .digest   (no blob with this digest in the blob store)
│   ├── ArtifactNotFoundError        .run_id .path
│   ├── DatasetNotFoundError         .name
│   ├── DatasetVersionNotFoundError  .name .version   (also an unknown alias or digest)
│   ├── LoggedModelNotFoundError     .model_id   (an MLflow 3 logged model)
│   ├── ModelNotFoundError           .name
│   ├── ModelVersionNotFoundError    .name .version
│   ├── ModelPackageNotFoundError    .path   (no mloop-model.yaml there)
│   └── AliasNotFoundError           .name .alias
├── AlreadyExistsError
│   ├── UserAlreadyExistsError       .name
│   ├── ExperimentAlreadyExistsError .name
│   └── ModelAlreadyExistsError      .name
├── InvalidInputError (also ValueError)  .field
│   ├── ParamConflictError           .run_id .key .old_value .new_value
│   ├── InvalidFilterError           .text .position   (a search filter does not parse)
│   ├── InvalidDatasetReferenceError .reference   (not datasets:/NAME/N, @ALIAS, /latest, digest)
│   ├── DvcImportError               .path   (a DVC file or cache entry cannot be read)
│   ├── InvalidModelReferenceError   .reference   (not models:/NAME/N, @ALIAS or /latest)
│   ├── InvalidModelPackageError     .path   (mloop-model.yaml breaks the package format)
│   ├── UnsupportedModelError        .model_type   (no flavor can save this object)
│   ├── UntrustedModelError          .path .types  (loading would trust unlisted code)
│   ├── ModelInputError              .column   (prediction input does not fit the signature)
│   ├── SchemaFileError              .path .line   (a data schema file breaks the format)
│   └── DataValidationError          .result       (data broke error-severity schema rules)
├── InvalidStateError
│   ├── RunNotActiveError            .run_id .status
│   ├── ProtectedAliasError          .name .alias .version   (needs an approved version)
│   └── AliasInUseError              .name .version .aliases (delete needs force)
├── StorageError
│   ├── DatabaseLockedError
│   ├── CorruptBlobError             .digest   (a blob's bytes no longer match its digest)
│   ├── CorruptModelPackageError     .path .file   (a file no longer matches its digest)
│   └── SchemaOutdatedError          .found .expected
└── ConfigurationError
    ├── AuthenticationError          (the server wants valid credentials: HTTP 401)
    ├── PermissionDeniedError        (the user lacks the role: HTTP 403)
    └── MissingExtraError            .extra .module
```

Messages name the object and the offending value, say what was expected and, where there is one,
the next step. HTTP status codes and CLI exit codes are mapped from these classes at the edges
(`server/`, `cli/`), never here.
"""

from __future__ import annotations


class MloopError(Exception):
    """Root of every error mloop raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(MloopError):
    """A named object (experiment, run, model ...) does not exist."""


class AlreadyExistsError(MloopError):
    """Creating an object whose name or id is taken."""


class InvalidInputError(MloopError, ValueError):
    """Input that breaks a documented rule; nothing was changed.

    Attributes:
        field: the name of the argument, key or column that was wrong, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidStateError(MloopError):
    """The operation does not fit the object's current state (e.g. logging to a deleted run)."""


class StorageError(MloopError):
    """The metadata store or blob store failed or is not usable as it is."""


class ConfigurationError(MloopError):
    """Settings, URIs or the installed extras do not allow the operation."""


class ExperimentNotFoundError(NotFoundError):
    """No experiment with the given id or name."""

    def __init__(self, experiment: str) -> None:
        super().__init__(
            f"experiment {experiment!r} does not exist; `mloop experiments list` shows the "
            "experiments there are, `mloop experiments create NAME` makes one"
        )
        self.experiment = experiment


class RunNotFoundError(NotFoundError):
    """No run with the given id."""

    def __init__(self, run_id: str) -> None:
        super().__init__(
            f"run {run_id!r} does not exist in this store; `mloop runs list` shows the runs "
            "there are"
        )
        self.run_id = run_id


class ExperimentAlreadyExistsError(AlreadyExistsError):
    """An experiment with this name exists (possibly deleted)."""

    def __init__(self, name: str, *, is_deleted: bool = False) -> None:
        hint = (
            "it is deleted: restore it or pick another name"
            if is_deleted
            else "use it, or pick another name"
        )
        super().__init__(f"experiment {name!r} already exists; {hint}")
        self.name = name


class ParamConflictError(InvalidInputError):
    """A param was logged again with a different value; params are immutable once logged."""

    def __init__(self, run_id: str, key: str, old_value: str, new_value: str) -> None:
        super().__init__(
            f"param {key!r} of run {run_id} is already {old_value!r} and cannot change to "
            f"{new_value!r}; params are immutable: log the new value under another key, or start "
            "a new run",
            field=key,
        )
        self.run_id = run_id
        self.key = key
        self.old_value = old_value
        self.new_value = new_value


class RunNotActiveError(InvalidStateError):
    """Writing to a run that is deleted."""

    def __init__(self, run_id: str, status: str) -> None:
        super().__init__(
            f"run {run_id} is {status} and accepts no more data; restore it with "
            f"`mloop runs restore {run_id}` first"
        )
        self.run_id = run_id
        self.status = status


class DatabaseLockedError(StorageError):
    """The database stayed locked by other writers for longer than the retry budget."""


class SchemaOutdatedError(StorageError):
    """The store was written by an older mloop and needs a migration."""

    def __init__(self, found: str | None, expected: str, *, uri: str) -> None:
        super().__init__(
            f"the store at {uri} has schema revision {found or 'none'} but this mloop needs "
            f"{expected}; upgrade it with `mloop db upgrade` (back it up first if it matters)"
        )
        self.found = found
        self.expected = expected


class MissingExtraError(ConfigurationError):
    """A feature needs an optional dependency group that is not installed."""

    def __init__(self, extra: str, module: str) -> None:
        super().__init__(
            f"this feature needs the optional module {module!r}; install it with "
            f"`pip install 'mloop[{extra}]'`"
        )
        self.extra = extra
        self.module = module


class UserNotFoundError(NotFoundError):
    """No server user with the given name."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"user {name!r} does not exist; `mloop users list` shows the users there are, "
            "`mloop users create NAME` makes one"
        )
        self.name = name


class UserAlreadyExistsError(AlreadyExistsError):
    """A server user with this name exists."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"user {name!r} already exists; grant it a role with `mloop users grant {name} "
            "--role ROLE`, or pick another name"
        )
        self.name = name


class TokenNotFoundError(NotFoundError):
    """No API token with the given id."""

    def __init__(self, token_id: str) -> None:
        super().__init__(
            f"API token {token_id!r} does not exist; `mloop tokens list` shows the token ids"
        )
        self.token_id = token_id


class AuthenticationError(ConfigurationError):
    """The server needs credentials and got none, or ones it does not accept."""


class PermissionDeniedError(ConfigurationError):
    """The credentials are valid but their user lacks the role the request needs."""


class SchemaFileError(InvalidInputError):
    """A data schema file (or mapping) breaks the schema format; `field` is the dotted location.

    Attributes:
        path: the file, when the schema came from one.
        line: the 1-based line of the offending field, when known.
    """

    def __init__(
        self, message: str, *, field: str, path: str | None = None, line: int | None = None
    ) -> None:
        where = path or ""
        if line is not None:
            where = f"{where}, line {line}" if where else f"line {line}"
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}{field or 'schema'}: {message}", field=field)
        self.path = path
        self.line = line


class DataValidationError(InvalidInputError):
    """Data broke one or more error-severity rules of its schema.

    Attributes:
        result: the full validation result (a `mloop.data.ValidationResult`).
    """

    def __init__(self, message: str, *, result: object) -> None:
        super().__init__(message, field="data")
        self.result = result


class InvalidFilterError(InvalidInputError):
    """A search filter or order-by clause does not parse.

    Attributes:
        text: the filter text.
        position: character offset where the problem was found, when known.
    """

    def __init__(self, message: str, *, text: str, position: int | None = None) -> None:
        where = f" at character {position}" if position is not None else ""
        super().__init__(
            f"invalid search filter{where}: {message}. Filters look like "
            "\"metrics.acc > 0.9 AND params.model = 'rf'\" (docs/search.md has the grammar)",
            field="filter",
        )
        self.text = text
        self.position = position


class ModelNotFoundError(NotFoundError):
    """No registered model with the given name."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"registered model {name!r} does not exist; `mloop models list` shows the models "
            'there are, and registering a version (`mloop.register_model("runs:/<run_id>/model", '
            f"{name!r})`) creates it"
        )
        self.name = name


class ModelVersionNotFoundError(NotFoundError):
    """A registered model has no such version (or no version at all)."""

    def __init__(self, name: str, version: int | str) -> None:
        super().__init__(
            f"model {name!r} has no version {version}; `mloop models versions {name}` lists "
            "its versions"
        )
        self.name = name
        self.version = version


class AliasNotFoundError(NotFoundError):
    """A registered model has no alias of this name."""

    def __init__(self, name: str, alias: str) -> None:
        super().__init__(
            f"model {name!r} has no alias {alias!r}; set it with "
            f"`mloop models alias set {name} {alias} VERSION`, or see `mloop models show {name}`"
        )
        self.name = name
        self.alias = alias


class ModelAlreadyExistsError(AlreadyExistsError):
    """A registered model with this name exists."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"registered model {name!r} already exists; register a new version of it instead, "
            "or pick another name"
        )
        self.name = name


class ProtectedAliasError(InvalidStateError):
    """A protected alias was to be moved onto a version that has no approval."""

    def __init__(self, name: str, alias: str, version: int) -> None:
        super().__init__(
            f"alias {alias!r} of model {name!r} is protected and version {version} is not "
            f"approved; get it approved first (`mloop models approve {name}/{version} "
            "--comment ...`), then set the alias again"
        )
        self.name = name
        self.alias = alias
        self.version = version


class AliasInUseError(InvalidStateError):
    """A model version (or model) to delete still holds aliases."""

    def __init__(self, name: str, version: int | None, aliases: list[str]) -> None:
        what = f"version {version} of model {name!r}" if version is not None else f"model {name!r}"
        held = ", ".join(repr(a) for a in aliases)
        super().__init__(
            f"{what} holds the alias(es) {held} and deleting it would leave them dangling; move "
            f"or delete the aliases first (`mloop models alias delete {name} ALIAS`), or delete "
            "with --force (force=True) to remove them too"
        )
        self.name = name
        self.version = version
        self.aliases = aliases


class InvalidModelReferenceError(InvalidInputError):
    """A model reference is not `models:/NAME/VERSION`, `models:/NAME@ALIAS` or `.../latest`."""

    def __init__(self, reference: str, problem: str) -> None:
        super().__init__(
            f"model reference {reference!r} {problem}; use models:/NAME/VERSION, "
            "models:/NAME@ALIAS or models:/NAME/latest (e.g. models:/churn@champion)",
            field="model_uri",
        )
        self.reference = reference


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


class BlobNotFoundError(NotFoundError):
    """No blob with the given digest in a blob store."""

    def __init__(self, digest: str, *, where: str = "the blob store") -> None:
        super().__init__(
            f"blob {digest} is not in {where}; it was never stored there or "
            "was removed by `mloop gc` (push it from the store that has it)"
        )
        self.digest = digest


class ArtifactNotFoundError(NotFoundError):
    """A run (or logged model) has no artifact at the given path."""

    def __init__(self, run_id: str, path: str) -> None:
        super().__init__(
            f"run {run_id} has no artifact {path!r}; `MloopClient.list_artifacts(run_id)` lists "
            "the artifacts it has"
        )
        self.run_id = run_id
        self.path = path


class LoggedModelNotFoundError(NotFoundError):
    """No MLflow logged model with the given id (served by the MLflow-compatible API)."""

    def __init__(self, model_id: str) -> None:
        super().__init__(
            f"logged model {model_id!r} does not exist; MLflow's `search_logged_models` lists the "
            "logged models of an experiment"
        )
        self.model_id = model_id


class CorruptBlobError(StorageError):
    """A blob's bytes do not match its digest (damaged on disk or in transit)."""

    def __init__(self, digest: str, *, actual: str, where: str = "the blob store") -> None:
        super().__init__(
            f"blob {digest} in {where} is corrupt: its content hashes to {actual}; delete it "
            "and store the file again (or pull it from a remote store that has it)"
        )
        self.digest = digest
        self.actual = actual


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
