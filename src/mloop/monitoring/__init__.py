"""Monitoring: drift between reference and current data, model performance, fairness."""

from mloop.monitoring.drift import DriftOptions as DriftOptions
from mloop.monitoring.drift import detect_drift as detect_drift
from mloop.monitoring.drift import prediction_drift as prediction_drift
from mloop.monitoring.profiles import ReferenceProfile as ReferenceProfile
from mloop.monitoring.profiles import build_profile as build_profile
from mloop.monitoring.results import ColumnDrift as ColumnDrift
from mloop.monitoring.results import ColumnStatus as ColumnStatus
from mloop.monitoring.results import DatasetDrift as DatasetDrift
from mloop.monitoring.results import DriftReport as DriftReport

__all__ = [
    "ColumnDrift",
    "ColumnStatus",
    "DatasetDrift",
    "DriftOptions",
    "DriftReport",
    "ReferenceProfile",
    "build_profile",
    "detect_drift",
    "prediction_drift",
]
