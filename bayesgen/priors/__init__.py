"""Priors: on variance components, on the scale of marker variances, and on marker effects."""

from .bayes_a import BayesAPrior
from .defaults import default_variance_prior
from .gamma import Gamma
from .scaled_inv_chi2 import FixedVariance, ScaledInvChi2, as_variance_prior

__all__ = ["BayesAPrior", "FixedVariance", "Gamma", "ScaledInvChi2", "as_variance_prior", "default_variance_prior"]
