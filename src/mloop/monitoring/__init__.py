"""Monitoring: drift between reference and current data, model performance, fairness."""

from mloop.monitoring.drift import DriftOptions as DriftOptions
from mloop.monitoring.drift import detect_drift as detect_drift
from mloop.monitoring.drift import prediction_drift as prediction_drift
from mloop.monitoring.performance import PerformanceReport as PerformanceReport
from mloop.monitoring.performance import classification_performance as classification_performance
from mloop.monitoring.performance import regression_performance as regression_performance
from mloop.monitoring.profiles import ReferenceProfile as ReferenceProfile
from mloop.monitoring.profiles import build_profile as build_profile
from mloop.monitoring.report_html import render_html as render_html
from mloop.monitoring.report_html import write_html as write_html
from mloop.monitoring.results import ColumnDrift as ColumnDrift
from mloop.monitoring.results import ColumnStatus as ColumnStatus
from mloop.monitoring.results import DatasetDrift as DatasetDrift
from mloop.monitoring.results import DriftReport as DriftReport
from mloop.monitoring.results import MultivariateDrift as MultivariateDrift

__all__ = [
    "ColumnDrift",
    "ColumnStatus",
    "DatasetDrift",
    "DriftOptions",
    "DriftReport",
    "MultivariateDrift",
    "PerformanceReport",
    "ReferenceProfile",
    "build_profile",
    "classification_performance",
    "detect_drift",
    "prediction_drift",
    "regression_performance",
    "render_html",
    "write_html",
]
