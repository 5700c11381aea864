"""Kubernetes manifests for `mloop serve --deployment`, validated against the Kubernetes schemas.

`kubernetes-validate` ships the JSON schemas of each Kubernetes release, so the check runs
offline; the strict schemas also refuse fields Kubernetes does not know.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from mloop.errors import InvalidInputError
from mloop.serving.kubernetes import ManifestOptions, manifests, to_yaml, write_manifests

KUBERNETES_VERSION = "1.37.0"


def _validate(document: dict[str, Any]) -> None:
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def _by_kind(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in documents}


@pytest.mark.parametrize(
    "options",
    [
        ManifestOptions(),
        ManifestOptions(
            image="registry.example/churn:3",
            replicas=3,
            max_replicas=12,
            cpu_request="2",
            memory_request="1.5Gi",
            memory_limit="2Gi",
            workers=2,
            secret_name="churn-tracking",
            namespace="ml-serving",
        ),
    ],
)
def test_every_manifest_is_valid_for_kubernetes(options: ManifestOptions) -> None:
    documents = manifests("churn-api", options)
    assert [d["kind"] for d in documents] == ["Deployment", "Service", "HorizontalPodAutoscaler"]
    for document in documents:
        _validate(document)
    for document in yaml.safe_load_all(to_yaml(documents)):
        _validate(document)


def test_a_broken_manifest_is_refused_by_the_validator() -> None:
    # The check above would catch a mistake: the same validator refuses a misspelt field.
    deployment = manifests("churn-api")[0]
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(deployment)


def test_pods_run_the_deployment_with_probes_metrics_and_the_tracking_secret() -> None:
    kinds = _by_kind(manifests("churn-api", ManifestOptions(replicas=3, workers=2)))
    deployment = kinds["Deployment"]
    template = deployment["spec"]["template"]
    container = template["spec"]["containers"][0]
    assert container["command"] == [
        "mloop", "serve", "--deployment", "churn-api", "--host", "0.0.0.0",
        "--port", "8080", "--workers", "2",
    ]  # fmt: skip
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/v2/health/live", "port": "http"}
    assert container["startupProbe"]["httpGet"]["path"] == "/v2/health/live"
    assert container["resources"] == {
        "requests": {"cpu": "500m", "memory": "512Mi"},
        "limits": {"memory": "1Gi"},
    }
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]}
    assert env["MLOOP_TRACKING_URI"] == {"name": "mloop-tracking", "key": "tracking-uri"}
    assert env["MLOOP_TRACKING_TOKEN"] == {
        "name": "mloop-tracking",
        "key": "tracking-token",
        "optional": True,
    }
    assert template["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "8080",
        "prometheus.io/path": "/metrics",
    }
    labels = deployment["spec"]["selector"]["matchLabels"]
    assert template["metadata"]["labels"] == labels
    assert labels["app.kubernetes.io/instance"] == "churn-api"
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    service = kinds["Service"]
    assert service["spec"]["selector"] == labels
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    hpa = kinds["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "churn-api",
    }
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 10)
    assert hpa["metrics"][0]["resource"]["target"]["averageUtilization"] == 70


def test_manifests_are_written_as_three_files(tmp_path: Path) -> None:
    written = write_manifests("churn-api", tmp_path / "k8s", ManifestOptions(namespace="ml"))
    assert [p.name for p in written] == ["deployment.yaml", "service.yaml", "hpa.yaml"]
    for path in written:
        document = yaml.safe_load(path.read_text())
        assert document["metadata"] == {
            "name": "churn-api",
            "namespace": "ml",
            "labels": {
                "app.kubernetes.io/name": "mloop-serve",
                "app.kubernetes.io/instance": "churn-api",
                "app.kubernetes.io/managed-by": "mloop",
            },
        }
        _validate(document)


@pytest.mark.parametrize(
    ("name", "options", "field"),
    [
        ("Churn_API", ManifestOptions(), "name"),
        ("churn-api", ManifestOptions(replicas=0), "replicas"),
        ("churn-api", ManifestOptions(replicas=5, max_replicas=4), "replicas"),
        ("churn-api", ManifestOptions(cpu_request="half"), "cpu"),
        ("churn-api", ManifestOptions(memory_limit="1 Gi"), "memory_limit"),
        ("churn-api", ManifestOptions(secret_name="My_Secret"), "secret"),
        ("churn-api", ManifestOptions(namespace="Prod"), "namespace"),
        ("churn-api", ManifestOptions(image="my image"), "image"),
        ("churn-api", ManifestOptions(cpu_target_percent=0), "cpu_target"),
        ("churn-api", ManifestOptions(workers=0), "workers"),
    ],
)
def test_options_kubernetes_would_refuse_are_refused_first(
    name: str, options: ManifestOptions, field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        manifests(name, options)
    assert caught.value.field == field
