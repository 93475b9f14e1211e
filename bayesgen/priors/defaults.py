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


def default_prior(rule: str, share, scale, diagonal: bool = False) -> VariancePrior:
    """The default prior of a d x d covariance component under ``rule``.

    ``share`` (d,): the variance each element's default is centred on (BGLR's rule);
    ``scale`` (d,): the half-t scale of each standard deviation, in its own units. One
    element: ``variance_prior_for``; a diagonal component: one such prior per element; else
    ``covariance_prior_for``.
    """
    from .diagonal import DiagonalPrior

    share = np.atleast_1d(np.asarray(share, dtype=np.float64))
    scale = np.atleast_1d(np.asarray(scale, dtype=np.float64))
    if share.size == 1:
        return variance_prior_for(rule, float(share[0]), float(scale[0]))
    if diagonal:
        return DiagonalPrior([variance_prior_for(rule, float(s), float(a)) for s, a in zip(share, scale)])
    return covariance_prior_for(rule, share, scale)


def resolve_prior(
    given, rule: str, share, scale, name: str, diagonal: bool = False, coefficients=None
) -> VariancePrior:
    """The prior of a covariance component from what the user passed: the only place defaults are chosen.

    ``given``: None (the rule's default, ``default_prior``), a ``VariancePrior``, a number or a
    matrix (fixed). For a ``diagonal`` component also a list of d entries, one per element
    (each None, a number or a one-dimensional prior). ``name`` and ``coefficients`` (the
    element names) appear in the errors. The prior's dimension is checked against d.
    """
    from .diagonal import DiagonalPrior
    from .scaled_inv_chi2 import as_variance_prior

    share = np.atleast_1d(np.asarray(share, dtype=np.float64))
    scale = np.atleast_1d(np.asarray(scale, dtype=np.float64))
    d = share.size
    labels = list(coefficients) if coefficients is not None else [str(k) for k in range(d)]
    if isinstance(given, (list, tuple)) and any(g is None or isinstance(g, VariancePrior) for g in given):
        if not diagonal:
            raise TypeError(
                f"{name} is an unstructured {d} x {d} covariance: give one prior on the whole matrix "
                f"(e.g. InverseWishart(df, scale) or HuangWand(df, scale) with {d} scales), a fixed {d} x {d} "
                f"matrix, or None; a list of one prior per coefficient is for structure='diag'."
            )
        if len(given) != d:
            raise ValueError(
                f"With structure='diag', prior must be a list of {d} priors or numbers (None for "
                f"the default), one per coefficient {labels!r}; got {len(given)}: {given!r}."
            )
        return DiagonalPrior(
            [
                as_variance_prior(g, variance_prior_for(rule, float(share[k]), float(scale[k])), f"{name}[{labels[k]}]")
                for k, g in enumerate(given)
            ]
        )
    if diagonal and given is not None and not isinstance(given, VariancePrior):
        raise ValueError(
            f"With structure='diag', prior must be a list of {d} priors or numbers (None for the "
            f"default), one per coefficient {labels!r}; got {given!r}."
        )
    prior = as_variance_prior(given, default_prior(rule, share, scale, diagonal), name)
    prior.check_dim(d, name)
    if diagonal and d > 1 and not prior.diagonal:
        raise ValueError(
            f"With structure='diag', {name} needs one prior per coefficient {labels!r} (a list), got {prior!r}."
        )
    return prior
