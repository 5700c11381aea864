"""Pure statistics shared by data validation, drift, monitoring and the validation gates.

Two-sample tests, distances between distributions, classification and regression metrics,
fairness gaps and mergeable sketches, all vectorised with NumPy/SciPy.
"""

from mloop.stats.classification import accuracy as accuracy
from mloop.stats.classification import expected_calibration_error as expected_calibration_error
from mloop.stats.classification import log_loss as log_loss
from mloop.stats.classification import precision_recall_f1 as precision_recall_f1
from mloop.stats.classification import roc_auc as roc_auc
from mloop.stats.distances import hellinger as hellinger
from mloop.stats.distances import jensen_shannon as jensen_shannon
from mloop.stats.distances import psi as psi
from mloop.stats.distances import wasserstein_normed as wasserstein_normed
from mloop.stats.fairness import FairnessReport as FairnessReport
from mloop.stats.fairness import fairness_report as fairness_report
from mloop.stats.regression import mean_absolute_error as mean_absolute_error
from mloop.stats.regression import mean_absolute_percentage_error as mean_absolute_percentage_error
from mloop.stats.regression import r2_score as r2_score
from mloop.stats.regression import root_mean_squared_error as root_mean_squared_error
from mloop.stats.sketches import Moments as Moments
from mloop.stats.sketches import QuantileSketch as QuantileSketch
from mloop.stats.two_sample import TestResult as TestResult
from mloop.stats.two_sample import benjamini_hochberg as benjamini_hochberg
from mloop.stats.two_sample import chi_square_counts as chi_square_counts
from mloop.stats.two_sample import ks_2samp as ks_2samp
from mloop.stats.two_sample import z_test_proportions as z_test_proportions

__all__ = [
    "FairnessReport",
    "Moments",
    "QuantileSketch",
    "TestResult",
    "accuracy",
    "benjamini_hochberg",
    "chi_square_counts",
    "expected_calibration_error",
    "fairness_report",
    "hellinger",
    "jensen_shannon",
    "ks_2samp",
    "log_loss",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "precision_recall_f1",
    "psi",
    "r2_score",
    "roc_auc",
    "root_mean_squared_error",
    "wasserstein_normed",
    "z_test_proportions",
]
