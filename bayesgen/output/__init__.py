"""Sampler output: InferenceData assembly, convergence report, compact netCDF files, store rule.

The only package of bayesgen that imports arviz.
"""

from .convergence import (
    ConvergenceWarning,
    convergence_message,
    convergence_report,
    format_convergence,
    scalar_names,
    stuck_chains,
    warn_if_not_converged,
)
from .inference_data import to_inference_data
from .netcdf import load, save
from .store import STORE_BUDGET, STORE_MODES, choose_store, high_dimensional_values, resolve_store
from .summary import summary

__all__ = [
    "STORE_BUDGET",
    "STORE_MODES",
    "ConvergenceWarning",
    "choose_store",
    "convergence_message",
    "convergence_report",
    "format_convergence",
    "high_dimensional_values",
    "load",
    "resolve_store",
    "save",
    "scalar_names",
    "stuck_chains",
    "summary",
    "to_inference_data",
    "warn_if_not_converged",
]
