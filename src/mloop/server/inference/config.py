"""What `mloop serve` runs with: what to serve, where predictions are logged, batching, auth."""

from __future__ import annotations

from dataclasses import dataclass, field

from mloop.serving.batcher import BatchOptions


@dataclass(frozen=True, slots=True)
class InferenceConfig:
    """Settings of one inference server; every worker gets the same.

    Attributes:
        reference: the model to serve (`models:/churn@champion`, `models:/churn/3`,
            `runs:/<id>/model` or a package folder), when not serving a deployment.
        deployment: the name of a stored deployment to serve instead.
        name: the model name reported for a reference outside the registry (default: the
            package folder's or artifact path's name).
        batching: how concurrent requests are merged.
        watch_interval_s: how often aliases and the deployment are re-read (0: never).
        auth: require an API token (or password) of a user of the store.
        log_predictions: write the prediction log.
        log_sample_rate: the fraction of requests logged.
        log_flush_interval_s: the longest a logged prediction waits to be written.
        log_spool: the local folder for prediction-log segments not yet converted to Parquet
            (default: `spool/predictions/<digest of the sink>` under the mloop home).
        max_body_bytes: the largest request body accepted.
        trusted: allow pickled (pyfunc) models.
        trusted_types: extra skops types to trust.
    """

    reference: str | None = None
    deployment: str | None = None
    name: str | None = None
    batching: BatchOptions = field(default_factory=BatchOptions)
    watch_interval_s: float = 0.25
    auth: bool = False
    log_predictions: bool = False
    log_sample_rate: float = 1.0
    log_flush_interval_s: float = 5.0
    log_spool: str | None = None
    max_body_bytes: int = 32 * 1024 * 1024
    trusted: bool = False
    trusted_types: tuple[str, ...] = ()
