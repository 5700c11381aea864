"""Kubernetes manifests that run `mloop serve --deployment NAME`: Deployment, Service, HPA.

The pods read the deployment (and the registry aliases it names) from the tracking server, so
changing the traffic split or moving an alias needs no new manifest. Readiness and liveness
probes use the inference server's Open Inference Protocol health endpoints; Prometheus finds
`/metrics` through the usual scrape annotations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mloop.entities.deployments import validate_deployment_name
from mloop.errors import InvalidInputError

CONTAINER_PORT = 8080
SERVICE_PORT = 80
MANAGED_BY = "mloop"
# Kubernetes quantities such as 500m, 2, 512Mi, 1Gi.
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$")
_SECRET_NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")


@dataclass(frozen=True, slots=True)
class ManifestOptions:
    """How the serving pods run.

    Attributes:
        image: container image with mloop and the model's requirements installed (e.g. one
            built from `mloop models build-docker`).
        replicas: pods to start with; also the autoscaler's minimum.
        max_replicas: the autoscaler's maximum.
        cpu_target_percent: average CPU use (of the request) the autoscaler aims at.
        cpu_request: CPU each pod requests, e.g. "500m".
        memory_request: memory each pod requests, e.g. "512Mi".
        memory_limit: memory a pod may use before it is restarted, e.g. "1Gi".
        workers: inference server worker processes per pod.
        secret_name: name of the Secret holding `tracking-uri` and (optional) `tracking-token`.
        namespace: namespace of the objects, or None for the one kubectl uses.
    """

    image: str = "mloop:latest"
    replicas: int = 2
    max_replicas: int = 10
    cpu_target_percent: int = 70
    cpu_request: str = "500m"
    memory_request: str = "512Mi"
    memory_limit: str = "1Gi"
    workers: int = 1
    secret_name: str = "mloop-tracking"  # noqa: S105 - a Secret's name, not its value
    namespace: str | None = None

    def check(self) -> ManifestOptions:
        """Return the options when Kubernetes can take them.

        Raises:
            InvalidInputError: a count, quantity or name Kubernetes would refuse.
        """
        if not self.image.strip() or any(c.isspace() for c in self.image):
            raise InvalidInputError(f"image {self.image!r} is not an image name", field="image")
        if not 1 <= self.replicas <= self.max_replicas:
            raise InvalidInputError(
                f"replicas must be at least 1 and at most max_replicas ({self.max_replicas}), "
                f"got {self.replicas}",
                field="replicas",
            )
        if not 1 <= self.cpu_target_percent <= 100:
            raise InvalidInputError("the CPU target is a percent, 1-100", field="cpu_target")
        if not 1 <= self.workers <= 64:
            raise InvalidInputError("workers must be 1-64", field="workers")
        for label, quantity in (
            ("cpu", self.cpu_request),
            ("memory", self.memory_request),
            ("memory_limit", self.memory_limit),
        ):
            if not _QUANTITY.match(quantity):
                raise InvalidInputError(
                    f"{label} {quantity!r} is not a Kubernetes quantity such as 500m, 1, 512Mi "
                    "or 1Gi",
                    field=label,
                )
        for label, name in (("secret", self.secret_name), ("namespace", self.namespace or "x")):
            if len(name) > 253 or not _SECRET_NAME.match(name):
                raise InvalidInputError(
                    f"{label} {name!r} is not a Kubernetes object name (lowercase letters, "
                    "digits, '-' and '.')",
                    field=label,
                )
        return self


def manifests(name: str, options: ManifestOptions | None = None) -> list[dict[str, Any]]:
    """The Deployment, Service and HorizontalPodAutoscaler serving deployment `name`.

    Args:
        name: the mloop deployment (a DNS label, so it names the Kubernetes objects too).
        options: image, replicas, resources and the tracking Secret.

    Raises:
        InvalidInputError: the name or an option is not usable.
    """
    validate_deployment_name(name)
    opts = (options or ManifestOptions()).check()
    return [_deployment(name, opts), _service(name, opts), _autoscaler(name, opts)]


def write_manifests(
    name: str, directory: str | Path, options: ManifestOptions | None = None
) -> list[Path]:
    """Write the manifests as `deployment.yaml`, `service.yaml` and `hpa.yaml` in a folder.

    Returns:
        The files written, in that order.
    """
    import yaml

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for document, file_name in zip(
        manifests(name, options), ("deployment.yaml", "service.yaml", "hpa.yaml"), strict=True
    ):
        path = folder / file_name
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        written.append(path)
    return written


def to_yaml(documents: list[dict[str, Any]]) -> str:
    """Several manifests as one multi-document YAML text (for `kubectl apply -f -`)."""
    import yaml

    return yaml.safe_dump_all(documents, sort_keys=False)


def _labels(name: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "mloop-serve",
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }


def _metadata(name: str, opts: ManifestOptions) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": _labels(name)}
    if opts.namespace:
        metadata["namespace"] = opts.namespace
    return metadata


def _secret_env(
    variable: str, key: str, opts: ManifestOptions, *, optional: bool
) -> dict[str, Any]:
    ref: dict[str, Any] = {"name": opts.secret_name, "key": key}
    if optional:
        ref["optional"] = True
    return {"name": variable, "valueFrom": {"secretKeyRef": ref}}


def _probe(path: str, *, period_s: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period_s,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def _container(name: str, opts: ManifestOptions) -> dict[str, Any]:
    command = ["mloop", "serve", "--deployment", name, "--host", "0.0.0.0"]  # noqa: S104
    command += ["--port", str(CONTAINER_PORT), "--workers", str(opts.workers)]
    return {
        "name": "serve",
        "image": opts.image,
        "command": command,
        "ports": [{"name": "http", "containerPort": CONTAINER_PORT, "protocol": "TCP"}],
        "env": [
            _secret_env("MLOOP_TRACKING_URI", "tracking-uri", opts, optional=False),
            _secret_env("MLOOP_TRACKING_TOKEN", "tracking-token", opts, optional=True),
        ],
        # Loading and warming the model may take a while: the startup probe holds off the
        # liveness probe until the server answers, so a slow load is not killed in a loop.
        "startupProbe": _probe("/v2/health/live", period_s=2, failures=60),
        "readinessProbe": _probe("/v2/health/ready", period_s=5, failures=3),
        "livenessProbe": _probe("/v2/health/live", period_s=10, failures=3),
        "resources": {
            "requests": {"cpu": opts.cpu_request, "memory": opts.memory_request},
            "limits": {"memory": opts.memory_limit},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def _deployment(name: str, opts: ManifestOptions) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(name, opts),
        "spec": {
            "replicas": opts.replicas,
            "selector": {"matchLabels": _labels(name)},
            # A new pod takes traffic only once ready, and none is stopped before: no gap.
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {
                    "labels": _labels(name),
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(CONTAINER_PORT),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    # Time for the server to drain in-flight requests after SIGTERM.
                    "terminationGracePeriodSeconds": 30,
                    "containers": [_container(name, opts)],
                },
            },
        },
    }


def _service(name: str, opts: ManifestOptions) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(name, opts),
        "spec": {
            "type": "ClusterIP",
            "selector": _labels(name),
            "ports": [
                {"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}
            ],
        },
    }


def _autoscaler(name: str, opts: ManifestOptions) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(name, opts),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": opts.replicas,
            "maxReplicas": opts.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": opts.cpu_target_percent,
                        },
                    },
                }
            ],
        },
    }
