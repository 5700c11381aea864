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
│   ├── AliasNotFoundError           .name .alias
│   ├── DeploymentNotFoundError      .name
│   └── DeploymentRevisionNotFoundError .name .revision
├── AlreadyExistsError
│   ├── UserAlreadyExistsError       .name
│   ├── ExperimentAlreadyExistsError .name
│   ├── ModelAlreadyExistsError      .name
│   └── DeploymentAlreadyExistsError .name
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
│   ├── FileFormatError              .path .line   (a file breaks its format)
│   │   ├── SchemaFileError                        (a data schema file)
│   │   └── PolicyFileError                        (a validation policy file)
│   └── DataValidationError          .result       (data broke error-severity schema rules)
├── InvalidStateError
│   ├── RunNotActiveError            .run_id .status
│   ├── ProtectedAliasError          .name .alias .version   (needs an approved version)
│   ├── AliasInUseError              .name .version .aliases (delete needs force)
│   ├── NothingToRollBackError       .name   (a deployment at its first revision)
│   ├── TargetInUseError             .name .target .deployments   (a deployment serves it)
│   └── GatesFailedError             .name .version .alias .failures   (promotion refused)
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

The classes live in modules by concept (`base`, `tracking`, `storage`, `access`, `data`,
`registry`, `models`, `deployments`, `gates`); import them from `mloop.errors`, which re-exports
every one. A new class goes into its concept's module, into `__all__` here and into the tree above.
"""

from __future__ import annotations

from mloop.errors.access import (
    AuthenticationError,
    PermissionDeniedError,
    TokenNotFoundError,
    UserAlreadyExistsError,
    UserNotFoundError,
)
from mloop.errors.base import (
    AlreadyExistsError,
    ConfigurationError,
    FileFormatError,
    InvalidInputError,
    InvalidStateError,
    MissingExtraError,
    MloopError,
    NotFoundError,
    StorageError,
)
from mloop.errors.data import (
    DatasetNotFoundError,
    DatasetVersionNotFoundError,
    DataValidationError,
    DvcImportError,
    InvalidDatasetReferenceError,
    SchemaFileError,
)
from mloop.errors.deployments import (
    DeploymentAlreadyExistsError,
    DeploymentNotFoundError,
    DeploymentRevisionNotFoundError,
    NothingToRollBackError,
    TargetInUseError,
)
from mloop.errors.gates import GatesFailedError, PolicyFileError
from mloop.errors.models import (
    CorruptModelPackageError,
    InvalidModelPackageError,
    ModelInputError,
    ModelPackageNotFoundError,
    UnsupportedModelError,
    UntrustedModelError,
)
from mloop.errors.registry import (
    AliasInUseError,
    AliasNotFoundError,
    InvalidModelReferenceError,
    ModelAlreadyExistsError,
    ModelNotFoundError,
    ModelVersionNotFoundError,
    ProtectedAliasError,
)
from mloop.errors.storage import (
    ArtifactNotFoundError,
    BlobNotFoundError,
    CorruptBlobError,
    DatabaseLockedError,
    SchemaOutdatedError,
)
from mloop.errors.tracking import (
    ExperimentAlreadyExistsError,
    ExperimentNotFoundError,
    InvalidFilterError,
    LoggedModelNotFoundError,
    ParamConflictError,
    RunNotActiveError,
    RunNotFoundError,
)

__all__ = [
    "AliasInUseError",
    "AliasNotFoundError",
    "AlreadyExistsError",
    "ArtifactNotFoundError",
    "AuthenticationError",
    "BlobNotFoundError",
    "ConfigurationError",
    "CorruptBlobError",
    "CorruptModelPackageError",
    "DataValidationError",
    "DatabaseLockedError",
    "DatasetNotFoundError",
    "DatasetVersionNotFoundError",
    "DeploymentAlreadyExistsError",
    "DeploymentNotFoundError",
    "DeploymentRevisionNotFoundError",
    "DvcImportError",
    "ExperimentAlreadyExistsError",
    "ExperimentNotFoundError",
    "FileFormatError",
    "GatesFailedError",
    "InvalidDatasetReferenceError",
    "InvalidFilterError",
    "InvalidInputError",
    "InvalidModelPackageError",
    "InvalidModelReferenceError",
    "InvalidStateError",
    "LoggedModelNotFoundError",
    "MissingExtraError",
    "MloopError",
    "ModelAlreadyExistsError",
    "ModelInputError",
    "ModelNotFoundError",
    "ModelPackageNotFoundError",
    "ModelVersionNotFoundError",
    "NotFoundError",
    "NothingToRollBackError",
    "ParamConflictError",
    "PermissionDeniedError",
    "PolicyFileError",
    "ProtectedAliasError",
    "RunNotActiveError",
    "RunNotFoundError",
    "SchemaFileError",
    "SchemaOutdatedError",
    "StorageError",
    "TargetInUseError",
    "TokenNotFoundError",
    "UnsupportedModelError",
    "UntrustedModelError",
    "UserAlreadyExistsError",
    "UserNotFoundError",
]
