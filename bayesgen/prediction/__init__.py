"""Prediction of genetic values from a fitted model's posterior draws."""

from .cross_validation import cross_validate

__all__ = ["cross_validate", "predict_breeding_values", "predict_genomic_values"]


def __getattr__(name):
    # genetic_values imports xarray (0.1 s); load it on first use, not with ``import bayesgen``.
    if name in ("predict_breeding_values", "predict_genomic_values"):
        from . import genetic_values

        return getattr(genetic_values, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
