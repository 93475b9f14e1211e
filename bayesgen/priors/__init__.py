"""Priors: on variance components (the VariancePrior protocol) and on marker effects (MarkerPrior)."""

from .base import VariancePrior
from .bayes_a import BayesAPrior
from .bayes_b import BayesBPrior
from .bayes_c import BayesCPrior, MultiTraitBayesCPrior
from .bayes_r import BayesRPrior
from .beta import Beta
from .defaults import default_variance_prior
from .diagonal import DiagonalPrior
from .gamma import Gamma
from .half_t import HalfT
from .inverse_wishart import HuangWand, InverseWishart
from .lasso import LassoPrior
from .marker_prior import MarkerPrior
from .ridge import MultiTraitRidgePrior, RidgePrior
from .scaled_inv_chi2 import FixedVariance, ScaledInvChi2, as_variance_prior

__all__ = [
    "BayesAPrior",
    "BayesBPrior",
    "BayesCPrior",
    "BayesRPrior",
    "Beta",
    "DiagonalPrior",
    "FixedVariance",
    "Gamma",
    "HalfT",
    "HuangWand",
    "InverseWishart",
    "LassoPrior",
    "MarkerPrior",
    "MultiTraitBayesCPrior",
    "MultiTraitRidgePrior",
    "RidgePrior",
    "ScaledInvChi2",
    "VariancePrior",
    "as_variance_prior",
    "default_variance_prior",
]
