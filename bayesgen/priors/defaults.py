"""Default priors of variance components: weakly informative half-t, or BGLR's rule.

``priors="default"``: every variance component (each random, pedigree and the residual
variance of a one-trait model) gets a half-t prior on its standard deviation,
``HalfT(df=3, scale=sd(y))`` (Gelman 2006): the density of sigma is flat near 0 (a
component near zero stays plausible), falls slowly beyond the phenotypic standard
deviation, and scales with the data's units. Measured on gryphon, Penicillin and
sleepstudy it puts every posterior median within 15% of REML (README, "Heritability").

``priors="bglr"``: BGLR's rule. A share ``R2 = 0.5`` of the phenotypic variance is
attributed a priori to the random terms together, split equally between them; the rest goes
to the residual. Each variance gets ``ScaledInvChi2(df=5, scale)`` with the scale chosen so
that the prior *mode* ``df * scale / (df + 2)`` equals its share.

With t > 1 traits (``covariance_prior_for``) the t x t covariances get, under "default",
``HuangWand(3, sd(y_1), ..., sd(y_t))``: each standard deviation half-t(3, sd(y_k)) as for
one trait, correlations with density proportional to (1 - rho^2)^(1/2); under "bglr", the
inverse-Wishart ``IW(t + 3, (2t + 4) diag(share))`` whose mode is diag(share).

Marker priors keep the R2 rule under both (``MarkerPrior.bind``).
"""

from __future__ import annotations

import numpy as np

from .base import VariancePrior
from .half_t import HalfT
from .scaled_inv_chi2 import ScaledInvChi2

DEFAULT_DF = 5.0
DEFAULT_R2 = 0.5
HALF_T_DF = 3.0
PRIOR_RULES = ("default", "bglr")


def default_variance_prior(share_of_variance: float, df: float = DEFAULT_DF) -> ScaledInvChi2:
    """BGLR's rule: ``ScaledInvChi2(df, S2)`` whose mode equals ``share_of_variance``."""
    return ScaledInvChi2(df, share_of_variance * (df + 2.0) / df)


def variance_prior_for(rule: str, share_of_variance: float, phenotypic_sd: float) -> VariancePrior:
    """The default prior of one (one-trait) variance component under ``rule``."""
    if rule == "bglr":
        return default_variance_prior(share_of_variance)
    return HalfT(HALF_T_DF, phenotypic_sd)


def covariance_prior_for(rule: str, share_of_variance, phenotypic_sd) -> VariancePrior:
    """The default prior of a t x t covariance component (t traits) under ``rule``."""
    from .inverse_wishart import HuangWand, InverseWishart

    share = np.atleast_1d(np.asarray(share_of_variance, dtype=np.float64))
    t = share.size
    if rule == "bglr":
        return InverseWishart(t + 3.0, np.diag(share) * (2.0 * t + 4.0))
    return HuangWand(HALF_T_DF, np.atleast_1d(np.asarray(phenotypic_sd, dtype=np.float64)))
