"""Ready-made models: the pedigree animal model, BayesA and GBLUP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from .._deprecation import renamed_arguments
from .._typing import PiArg, PriorArg, ScaleArg
from ..data.genotypes import Genotypes
from ..data.pedigree import Pedigree
from ..priors.bayes_a import BayesAPrior
from ..priors.bayes_b import BayesBPrior
from ..priors.bayes_c import BayesCPrior
from ..priors.bayes_r import DEFAULT_GAMMA, BayesRPrior
from ..priors.beta import Beta
from ..priors.lasso import LassoPrior
from ..priors.ridge import RidgePrior
from ..terms import Animal, Fixed, Kernel, Markers, Random, Term
from .model import Model

#: Fixed-effect columns, or a ready Fixed term.
FixedArg = str | Sequence[str] | Term
#: Columns of iid random effects, or ready terms.
RandomArg = str | Term | Sequence[str | Term]


def _common_terms(fixed: FixedArg, random: RandomArg, intercept: bool) -> list[Term]:
    """Fixed effects (columns or a Fixed term) and iid random effects (columns or terms)."""
    terms: list[Term] = []
    if isinstance(fixed, Term):  # a ready term (a Fixed one, with its options)
        terms.append(fixed)
    elif fixed or intercept:
        terms.append(Fixed(fixed or (), intercept=intercept))
    for r in [random] if isinstance(random, (str, Term)) else (random or ()):
        terms.append(r if isinstance(r, Term) else Random(r))
    return terms


@renamed_arguments(animal="column", sigma2_a="prior")
def AnimalModel(
    data: pd.DataFrame,
    y: str,
    column: str,
    pedigree: Pedigree,
    fixed: FixedArg = (),
    random: RandomArg = (),
    prior: PriorArg = None,
    sigma2_e: PriorArg = None,
    intercept: bool = True,
    **model_options: Any,
) -> Model:
    """The animal model y = X beta + sum_k Z_k u_k + Z a + e, with a ~ N(0, sigma2_a A).

    Parameters
    ----------
    data : DataFrame
        Records.
    y : str
        Phenotype column (NaN = missing, predicted).
    column : str
        The column of animal ids (all must be in ``pedigree``).
    pedigree : Pedigree
    fixed : list of str or Fixed
        Fixed-effect columns (factors get treatment dummies, numbers are covariates).
    random : list of str or Term
        Columns of iid random effects (birth year, mother, ...), or ready terms.
    prior, sigma2_e : VariancePrior, float or None
        Priors on the additive variance ``sigma2_a`` and on the residual variance (float: fixed;
        None: default).
    intercept : bool
        Include an intercept (default True).
    **model_options
        Passed to :class:`Model` (``sampler``, ``priors``, ``log_likelihood``, ...).
    """
    terms = _common_terms(fixed, random, intercept)
    terms.append(Animal(column, pedigree, prior=prior))
    return Model(data, y, terms, sigma2_e=sigma2_e, **model_options)


@renamed_arguments(id="column")
def BayesA(
    data: pd.DataFrame,
    y: str,
    column: str,
    genotypes: Genotypes,
    fixed: FixedArg = (),
    random: RandomArg = (),
    df: float = 5.0,
    scale: ScaleArg = None,
    sigma2_e: PriorArg = None,
    intercept: bool = True,
    **model_options: Any,
) -> Model:
    """BayesA: y = X beta + sum_k Z_k u_k + W alpha + e with alpha_j ~ N(0, sigma2_j),
    sigma2_j ~ Scale-inv-chi2(df, scale).

    ``column`` names the column of individual ids (all must be in ``genotypes``). ``scale``
    is fixed if a float, sampled under a ``Gamma`` prior if one is given, and by default
    sampled under BGLR's Gamma(1.1, .) prior (see :class:`bayesgen.BayesAPrior`).
    """
    terms = _common_terms(fixed, random, intercept)
    terms.append(Markers(column, genotypes, prior=BayesAPrior(df=df, scale=scale)))
    return Model(data, y, terms, sigma2_e=sigma2_e, **model_options)


@renamed_arguments(id="column")
def BayesB(
    data: pd.DataFrame,
    y: str,
    column: str,
    genotypes: Genotypes,
    fixed: FixedArg = (),
    random: RandomArg = (),
    pi: PiArg = 0.5,
    df: float = 5.0,
    scale: ScaleArg = None,
    sigma2_e: PriorArg = None,
    intercept: bool = True,
    **model_options: Any,
) -> Model:
    """BayesB: as :func:`BayesA` with alpha_j = delta_j beta_j, delta_j ~ Bernoulli(pi), beta_j ~ N(0, sigma2_j);
    ``pi`` a number is fixed, a ``Beta`` prior is sampled (see :class:`bayesgen.BayesBPrior`)."""
    terms = _common_terms(fixed, random, intercept)
    terms.append(Markers(column, genotypes, prior=BayesBPrior(pi=pi, df=df, scale=scale)))
    return Model(data, y, terms, sigma2_e=sigma2_e, **model_options)


@renamed_arguments(id="column")
def BayesLasso(
    data: pd.DataFrame,
    y: str,
    column: str,
    genotypes: Genotypes,
    fixed: FixedArg = (),
    random: RandomArg = (),
    lambda2: ScaleArg = None,
    sigma2_e: PriorArg = None,
    intercept: bool = True,
    **model_options: Any,
) -> Model:
    """Bayesian LASSO: as :func:`BayesA` with alpha_j ~ double exponential with rate lambda, as a scale
    mixture N(0, tau2_j), tau2_j ~ Exp(lambda2 / 2); ``lambda2`` a float is fixed, a ``Gamma`` prior is
    sampled (default: BGLR-style Gamma(1.1, .), see :class:`bayesgen.LassoPrior`)."""
    terms = _common_terms(fixed, random, intercept)
    terms.append(Markers(column, genotypes, prior=LassoPrior(lambda2=lambda2)))
    return Model(data, y, terms, sigma2_e=sigma2_e, **model_options)


@renamed_arguments(id="column", variance="prior")
def BayesR(
    data: pd.DataFrame,
    y: str,
    column: str,
    genotypes: Genotypes,
    fixed: FixedArg = (),
    random: RandomArg = (),
    gamma: Sequence[float] = DEFAULT_GAMMA,
    dirichlet: Sequence[float] | None = None,
    prior: PriorArg = None,
    sigma2_e: PriorArg = None,
    intercept: bool = True,
    **model_options: Any,
) -> Model:
    """BayesR: as :func:`BayesA` with alpha_j ~ sum_k pi_k N(0, gamma_k sigma2_alpha), gamma = (0, 1e-4, 1e-3,
    1e-2) by default, pi ~ Dirichlet (see :class:`bayesgen.BayesRPrior`)."""
    terms = _common_terms(fixed, random, intercept)
    terms.append(Markers(column, genotypes, prior=BayesRPrior(gamma=gamma, dirichlet=dirichlet, prior=prior)))
    return Model(data, y, terms, sigma2_e=sigma2_e, **model_options)


@renamed_arguments(id="column", variance="prior")
def BRR(
    data: pd.DataFrame,
    y: str,
    column: str,
    genotypes: Genotypes,
    fixed: FixedArg = (),
    random: RandomArg = (),
    prior: PriorArg = None,
    sigma2_e: PriorArg = None,
    intercept: bool = True,
    **model_options: Any,
) -> Model:
    """Bayesian ridge regression: as :func:`BayesA` with alpha_j ~ N(0, sigma2_alpha), one common
    variance ``prior`` (a float: fixed; a ScaledInvChi2: sampled; None: BGLR's default, see
    :class:`bayesgen.RidgePrior`)."""
    terms = _common_terms(fixed, random, intercept)
    terms.append(Markers(column, genotypes, prior=RidgePrior(prior=prior)))
    return Model(data, y, terms, sigma2_e=sigma2_e, **model_options)


@renamed_arguments(id="column", variance="prior")
def BayesC(
    data: pd.DataFrame,
    y: str,
    column: str,
    genotypes: Genotypes,
    fixed: FixedArg = (),
    random: RandomArg = (),
    pi: PiArg = 0.5,
    prior: PriorArg = None,
    sigma2_e: PriorArg = None,
    intercept: bool = True,
    **model_options: Any,
) -> Model:
    """BayesC: as :func:`BayesA` with alpha_j ~ (1 - pi) delta_0 + pi N(0, sigma2_alpha); ``pi`` a
    number is fixed, a ``Beta`` prior is sampled (see :class:`bayesgen.BayesCPrior`)."""
    terms = _common_terms(fixed, random, intercept)
    terms.append(Markers(column, genotypes, prior=BayesCPrior(pi=pi, prior=prior)))
    return Model(data, y, terms, sigma2_e=sigma2_e, **model_options)


@renamed_arguments(id="column", variance="prior")
def BayesCPi(
    data: pd.DataFrame,
    y: str,
    column: str,
    genotypes: Genotypes,
    fixed: FixedArg = (),
    random: RandomArg = (),
    pi: PiArg | None = None,
    prior: PriorArg = None,
    sigma2_e: PriorArg = None,
    intercept: bool = True,
    **model_options: Any,
) -> Model:
    """BayesCpi: :func:`BayesC` with pi sampled, by default under BGLR's Beta(5.5, 5.5) prior."""
    pi = Beta(5.5, 5.5) if pi is None else pi
    if not isinstance(pi, Beta):
        raise TypeError(
            f"BayesCPi samples pi: pass a bayesgen.Beta prior (or None), got {pi!r}; use BayesC for a fixed pi."
        )
    return BayesC(
        data,
        y,
        column,
        genotypes,
        fixed=fixed,
        random=random,
        pi=pi,
        prior=prior,
        sigma2_e=sigma2_e,
        intercept=intercept,
        **model_options,
    )


@renamed_arguments(id="column", sigma2_g="prior")
def GBLUP(
    data: pd.DataFrame,
    y: str,
    column: str,
    genotypes: Genotypes,
    fixed: FixedArg = (),
    random: RandomArg = (),
    prior: PriorArg = None,
    sigma2_e: PriorArg = None,
    intercept: bool = True,
    **model_options: Any,
) -> Model:
    """GBLUP: y = X beta + sum_k Z_k u_k + Z g + e with g ~ N(0, sigma2_g G), G = ``bg.grm(genotypes)``.

    G is VanRaden's (2008) method-1 genomic relationship matrix over every individual of
    ``genotypes`` (those without records get predicted genetic values); ``column`` names the
    column of individual ids. The term is a :class:`bayesgen.Kernel` named ``g`` (recorded
    as ``g``, dim ``g_level``, and ``sigma2_g``); a rank-deficient G (fewer markers than
    individuals, or centring) takes the eigen route automatically. ``prior`` is the prior on
    ``sigma2_g`` (a float: fixed; None: the default). In the eigen route the
    columns of the design Z U+ D+^1/2 are orthogonal when every individual has one record,
    so single-site sweeps draw the effects nearly jointly: it is the default ``sampler``
    there (a dense block costs more per iteration and mixes no better).
    """
    from ..data.genomic_relationship import grm

    terms = _common_terms(fixed, random, intercept)
    kernel = Kernel(column, grm(genotypes), prior=prior, name="g")
    terms.append(kernel)
    if kernel.route == "eigen":
        model_options.setdefault("sampler", "single-site")
    return Model(data, y, terms, sigma2_e=sigma2_e, **model_options)
