"""Diagnostics of fitted models: power-scaling prior and likelihood sensitivity (PSIS-based).

Reads InferenceData through xarray only; arviz itself stays in :mod:`bayesgen.output`.
"""

from . import gwas
from .prior_sensitivity import (
    NO_ISSUE,
    PRIOR_DATA_CONFLICT,
    WEAK_LIKELIHOOD,
    PowerScalingWarning,
    cjs_distance,
    prior_sensitivity,
)
from .psis import k_threshold, psis_log_weights

__all__ = [
    "NO_ISSUE",
    "PRIOR_DATA_CONFLICT",
    "gwas",
    "WEAK_LIKELIHOOD",
    "PowerScalingWarning",
    "cjs_distance",
    "k_threshold",
    "prior_sensitivity",
    "psis_log_weights",
]
