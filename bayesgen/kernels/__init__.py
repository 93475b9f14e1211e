"""Numba kernels: pure loops over arrays, each documenting the full conditional it draws from."""

from .markers import genetic_values_from_codes, sweep_markers_gaussian, weighted_cross_products
from .random_effects import quadratic_form, sweep_random_effects

__all__ = [
    "genetic_values_from_codes",
    "quadratic_form",
    "sweep_markers_gaussian",
    "sweep_random_effects",
    "weighted_cross_products",
]
