"""Readiness and Open Inference Protocol v2 metadata answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mloop.server.inference.responses import Reply, json_reply
from mloop.serving.oip import oip_datatype

if TYPE_CHECKING:
    from mloop.serving.holder import ServedVersion
    from mloop.serving.service import ModelService


def readiness(service: ModelService) -> Reply:
    """200 when every served reference has a loaded version, else 503."""
    if service.is_ready:
        served = {ref: s.label for ref, s in service.served().items()}
        return json_reply({"status": "ready", "models": served}, endpoint="health")
    return json_reply({"status": "loading"}, status=503, endpoint="health")


def model_readiness(served: ServedVersion) -> Reply:
    """OIP's model readiness: a loaded version is ready."""
    return json_reply(
        {"name": served.model, "ready": True},
        endpoint="metadata",
        model=served.model,
        version=served.version,
    )


def model_metadata(served: ServedVersion, name: str) -> Reply:
    """OIP's model metadata: name, versions, platform, input and output tensors."""
    signature = served.signature
    inputs: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    if signature is not None:
        inputs = [
            {"name": c.name, "datatype": oip_datatype(c.type), "shape": [-1]}
            for c in signature.inputs
        ]
        width = len(signature.outputs)
        outputs = [
            {
                "name": signature.method,
                "datatype": oip_datatype(signature.outputs[0].type) if width else "BYTES",
                "shape": [-1, width] if width > 1 else [-1],
            }
        ]
    package = served.loaded.package
    return json_reply(
        {
            "name": name,
            "versions": [served.version] if served.version else [],
            "platform": f"mloop-{package.flavor}-{served.loaded.backend}",
            "inputs": inputs,
            "outputs": outputs,
        },
        endpoint="metadata",
        model=served.model,
        version=served.version,
    )
