"""Default priors derived from the phenotypic variance (BGLR's rules).

A share ``R2 = 0.5`` of the phenotypic variance is attributed a priori to the random
terms together, split equally between them; the rest goes to the residual. Each variance
gets ``ScaledInvChi2(df=5, scale)`` with the scale chosen so that the prior *mode*
``df * scale / (df + 2)`` equals its share. Five degrees of freedom carry the weight of
about five observations: weak, but proper, with a finite mean.
"""

from __future__ import annotations

from .scaled_inv_chi2 import ScaledInvChi2

DEFAULT_DF = 5.0
DEFAULT_R2 = 0.5


def default_variance_prior(share_of_variance: float, df: float = DEFAULT_DF) -> ScaledInvChi2:
    """``ScaledInvChi2(df, S2)`` whose mode equals ``share_of_variance``."""
    return ScaledInvChi2(df, share_of_variance * (df + 2.0) / df)
