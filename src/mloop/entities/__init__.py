"""Plain typed data shared by storage, the stages, the client and the server."""

from __future__ import annotations

from mloop.entities.audit import AuditEvent as AuditEvent
from mloop.entities.experiments import Experiment as Experiment
from mloop.entities.experiments import LifecycleStage as LifecycleStage
from mloop.entities.registry import Approval as Approval
from mloop.entities.registry import ModelVersion as ModelVersion
from mloop.entities.registry import ModelVersionPage as ModelVersionPage
from mloop.entities.registry import RegisteredModel as RegisteredModel
from mloop.entities.registry import RegisteredModelPage as RegisteredModelPage
from mloop.entities.runs import Metric as Metric
from mloop.entities.runs import MetricHistory as MetricHistory
from mloop.entities.runs import Param as Param
from mloop.entities.runs import Run as Run
from mloop.entities.runs import RunInput as RunInput
from mloop.entities.runs import RunPage as RunPage
from mloop.entities.runs import RunStart as RunStart
from mloop.entities.runs import RunStatus as RunStatus
from mloop.entities.runs import RunTag as RunTag

__all__ = [
    "Approval",
    "AuditEvent",
    "Experiment",
    "LifecycleStage",
    "Metric",
    "MetricHistory",
    "ModelVersion",
    "ModelVersionPage",
    "Param",
    "RegisteredModel",
    "RegisteredModelPage",
    "Run",
    "RunInput",
    "RunPage",
    "RunStart",
    "RunStatus",
    "RunTag",
]
