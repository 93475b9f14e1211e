r"""Joint-distribution tests of a Gibbs sampler (Geweke 2004, "Getting it right").

A model with proper priors defines a joint distribution :math:`p(\theta, y) = p(\theta)\,p(y \mid \theta)`.
It can be sampled in two ways:

* the **marginal-conditional** simulator: M independent draws :math:`\theta \sim p(\theta)`,
  :math:`y \sim p(y \mid \theta)` (``Gibbs.draw_prior`` then ``Gibbs.simulate_response``);
* the **successive-conditional** simulator: one chain that alternates a Gibbs iteration
  :math:`\theta \sim K(\theta \mid \cdot, y)` (``Gibbs.step``) with :math:`y \sim p(y \mid \theta)`
  (``Gibbs.simulate_response``). If every conditional of the sampler is right, K leaves
  :math:`p(\theta \mid y)` invariant and the chain's stationary distribution is again
  :math:`p(\theta, y)`; an error in any conditional (a wrong degree of freedom, a missing
  term in a mean, a wrong acceptance ratio) moves it.

So the means of any test function :math:`g(\theta, y)` must agree between the two. Here g
runs over the first and second moments of every scalar variance (each element of a
covariance matrix, and correlations), of ``h2`` and of a few effects (the first
``n_effects`` entries of every recorded vector: the intercept, the first levels of each
random term, the first markers). For each g,

.. math:: z = (\bar g_{MC} - \bar g_{SC}) / \sqrt{se_{MC}^2 + se_{SC}^2},

with the iid standard error for the marginal-conditional draws and, for the autocorrelated
successive-conditional simulator, either a batch-means standard error of one long chain
(``n_batches`` batches) or, with ``n_chains`` > 1 independent chains, the between-chain
standard error :math:`sd(\bar g_1, \dots, \bar g_m)/\sqrt m` of their m means. Batch means
underestimate the error when the chain mixes slowly (the batches are then correlated): the
between-chain error is unbiased whatever the autocorrelation, as long as each chain is past its
burn-in. With K test functions the test fails when any :math:`|z|` exceeds the Bonferroni
threshold :math:`\Phi^{-1}(1 - \alpha / (2K))` (:math:`\alpha = 0.01` by default); with m
chains the Student-t quantile with m - 1 degrees of freedom instead (the error is estimated
from m values; conservative, since the marginal-conditional error adds degrees of freedom).

Only the public step interface is used: ``Gibbs.init``, ``draw_prior``,
``simulate_response``, ``step`` and ``record``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm
from scipy.stats import t as student_t

from bayesgen.sampler import Gibbs


# ---------------------------------------------------------------------- test functions
def scalar_functions(values: dict, n_effects: int = 2) -> dict:
    """Scalar test functions (first moments; squares are added by ``compare``) of one record.

    ``values`` is ``Gibbs.record(chain)``; only the ``posterior`` group is used. A scalar
    (a variance, ``h2``, a marker scale) is kept as is; a vector of effects (``beta``,
    ``u``, ``alpha``, a random term's levels) contributes its first ``n_effects`` entries;
    a t x t covariance (``sigma2_*``, or ``var_*`` derived) its upper triangle; a correlation
    matrix (``rho_*``, or ``cor_*`` derived) its strict upper triangle; a (levels x traits) matrix of effects its first
    ``n_effects`` rows.
    """
    out = {}
    for (group, name), value in values.items():
        if group != "posterior":
            continue
        value = np.asarray(value, dtype=np.float64)
        if value.ndim == 0:
            out[name] = float(value)
        elif value.ndim == 1:
            for i in range(min(n_effects, value.size)):
                out[f"{name}[{i}]"] = float(value[i])
        elif (
            value.ndim == 2
            and name.startswith(("sigma2_", "rho_", "var_", "cor_"))
            and value.shape[0] == value.shape[1]
        ):
            first = 1 if name.startswith(("rho_", "cor_")) else 0
            for i in range(value.shape[0]):
                for j in range(i + first, value.shape[1]):
                    out[f"{name}[{i},{j}]"] = float(value[i, j])
        elif value.ndim == 2:
            for i in range(min(n_effects, value.shape[0])):
                for j in range(value.shape[1]):
                    out[f"{name}[{i},{j}]"] = float(value[i, j])
        else:
            raise ValueError(f"No test functions defined for {name!r} with shape {value.shape}.")
    return out


#: ``Gibbs.record``'s ``wanted`` for the test functions: they read the ``posterior`` group only, so
#: the pointwise log-likelihood (deterministic, a pass over the records) is not computed.
PARAMETERS_ONLY: frozenset = frozenset()


# ---------------------------------------------------------------------- the two simulators
def marginal_conditional(gibbs: Gibbs, rng: np.random.Generator, n_draws: int, n_effects: int = 2) -> pd.DataFrame:
    """``n_draws`` independent draws of (theta ~ prior, y ~ p(y | theta)): one row of test functions each."""
    chain = gibbs.init(rng)
    rows = []
    for _ in range(n_draws):
        gibbs.draw_prior(rng, chain)
        gibbs.simulate_response(rng, chain)
        rows.append(scalar_functions(gibbs.record(chain, wanted=PARAMETERS_ONLY), n_effects))
    return pd.DataFrame(rows)


def successive_conditional(
    gibbs: Gibbs, rng: np.random.Generator, n_draws: int, burn: int, n_effects: int = 2
) -> pd.DataFrame:
    """One chain alternating theta | y (``step``) and y | theta (``simulate_response``).

    It starts from a prior draw; the first ``burn`` iterations run with ``tuning=True``
    (adaptive steps tune their proposals, then freeze them) and are discarded. Returns
    ``n_draws`` rows of test functions, in chain order.
    """
    chain = gibbs.init(rng)
    gibbs.draw_prior(rng, chain)
    gibbs.simulate_response(rng, chain)
    for _ in range(burn):
        gibbs.step(rng, chain, tuning=True)
        gibbs.simulate_response(rng, chain)
    rows = []
    for _ in range(n_draws):
        gibbs.step(rng, chain)
        gibbs.simulate_response(rng, chain)
        rows.append(scalar_functions(gibbs.record(chain, wanted=PARAMETERS_ONLY), n_effects))
    return pd.DataFrame(rows)


def successive_conditional_chains(
    gibbs: Gibbs, rngs: list, n_draws: int, burn: int, n_effects: int = 2
) -> list[pd.DataFrame]:
    """Independent successive-conditional chains, one per generator of ``rngs`` (see
    ``successive_conditional``), each with its own burn-in and ``n_draws`` kept rows."""
    return [successive_conditional(gibbs, rng, n_draws, burn, n_effects) for rng in rngs]


# ---------------------------------------------------------------------- the comparison
def between_chain_se(chain_means: np.ndarray) -> np.ndarray:
    """Standard error of the grand mean of m independent chains from their (m x k) means: sd / sqrt(m)."""
    chain_means = np.asarray(chain_means, dtype=np.float64)
    if chain_means.shape[0] < 2:
        raise ValueError(f"A between-chain standard error needs at least 2 chains, got {chain_means.shape[0]}.")
    return chain_means.std(axis=0, ddof=1) / np.sqrt(chain_means.shape[0])


def batch_means_se(draws: np.ndarray, n_batches: int) -> np.ndarray:
    """Batch-means standard error of the mean of each column of an autocorrelated (draws x k) array.

    The chain is cut into ``n_batches`` consecutive batches of equal length (a remainder
    at the start is dropped); se = sd(batch means) / sqrt(n_batches).
    """
    draws = np.asarray(draws, dtype=np.float64)
    length = draws.shape[0] // n_batches
    if length < 1:
        raise ValueError(f"{draws.shape[0]} draws cannot be cut into {n_batches} batches.")
    kept = draws[draws.shape[0] - length * n_batches :]
    means = kept.reshape(n_batches, length, -1).mean(axis=1)
    return means.std(axis=0, ddof=1) / np.sqrt(n_batches)


@dataclass
class GewekeResult:
    """The z-score of every test function, and the Bonferroni verdict.

    ``table`` has one row per test function (``E[x]`` and ``E[x^2]`` for each scalar x of
    ``scalar_functions``) with columns ``mean_mc``, ``se_mc``, ``mean_sc``, ``se_sc``, ``z``
    and ``ess_sc`` (the successive-conditional draws' effective sample size implied by
    their se); ``threshold`` is :math:`\\Phi^{-1}(1 - \\alpha/(2K))`, or the t quantile with
    ``n_chains`` - 1 degrees of freedom when the se is between chains.
    """

    table: pd.DataFrame
    threshold: float
    n_marginal: int
    n_successive: int
    n_batches: int
    alpha: float
    n_chains: int = 1

    @property
    def n_functions(self) -> int:
        return len(self.table)

    @property
    def max_abs_z(self) -> float:
        return float(self.table["z"].abs().max())

    @property
    def passed(self) -> bool:
        return self.max_abs_z <= self.threshold

    @property
    def failures(self) -> pd.DataFrame:
        return self.table[self.table["z"].abs() > self.threshold]

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        error = (
            f"in {self.n_batches} batches"
            if self.n_chains == 1
            else f"in {self.n_chains} independent chains (between-chain se)"
        )
        head = (
            f"Geweke test {verdict}: max |z| = {self.max_abs_z:.2f} over K = {self.n_functions} test functions, "
            f"Bonferroni threshold {self.threshold:.2f} (alpha = {self.alpha:g}); {self.n_marginal} "
            f"marginal-conditional draws, {self.n_successive} successive-conditional iterations {error}."
        )
        order = self.table["z"].abs().sort_values(ascending=False).index
        with pd.option_context("display.width", 160, "display.max_rows", 200):
            return head + "\n" + self.table.loc[order].to_string(float_format=lambda v: f"{v:.4g}")


def compare(mc: pd.DataFrame, sc, n_batches: int = 50, alpha: float = 0.01) -> GewekeResult:
    """z-scores of the first and second moments of every column of ``mc`` against ``sc``.

    ``sc``: one successive-conditional chain (a DataFrame; batch-means se) or a list of
    independent chains (between-chain se, t threshold with len(sc) - 1 degrees of freedom).
    """
    chains = sc if isinstance(sc, (list, tuple)) else [sc]
    for chain in chains:
        if list(mc.columns) != list(chain.columns):
            raise ValueError(
                f"The simulators recorded different test functions: {list(mc.columns)} vs {list(chain.columns)}."
            )
    names = [f"E[{c}]" for c in mc.columns] + [f"E[{c}^2]" for c in mc.columns]
    g_mc = np.hstack([mc.to_numpy(), mc.to_numpy() ** 2])
    g_chains = [np.hstack([c.to_numpy(), c.to_numpy() ** 2]) for c in chains]
    g_sc = np.vstack(g_chains)
    mean_mc, mean_sc = g_mc.mean(axis=0), g_sc.mean(axis=0)
    se_mc = g_mc.std(axis=0, ddof=1) / np.sqrt(g_mc.shape[0])
    if len(chains) == 1:
        se_sc = batch_means_se(g_sc, n_batches)
    else:
        lengths = {g.shape[0] for g in g_chains}
        if len(lengths) != 1:
            raise ValueError(f"The successive-conditional chains must have equal lengths, got {sorted(lengths)}.")
        se_sc = between_chain_se(np.array([g.mean(axis=0) for g in g_chains]))
    z = (mean_mc - mean_sc) / np.sqrt(se_mc**2 + se_sc**2)
    ess_sc = g_sc.var(axis=0, ddof=1) / se_sc**2
    table = pd.DataFrame(
        {"mean_mc": mean_mc, "se_mc": se_mc, "mean_sc": mean_sc, "se_sc": se_sc, "z": z, "ess_sc": ess_sc},
        index=pd.Index(names, name="test function"),
    )
    quantile = 1.0 - alpha / (2.0 * len(names))
    threshold = float(norm.ppf(quantile) if len(chains) == 1 else student_t.ppf(quantile, len(chains) - 1))
    return GewekeResult(table, threshold, g_mc.shape[0], g_sc.shape[0], n_batches, alpha, len(chains))


def geweke_test(
    model,
    *,
    n_marginal: int,
    n_successive: int,
    burn: int = 500,
    seed: int = 0,
    n_batches: int = 50,
    alpha: float = 0.01,
    n_effects: int = 2,
    n_chains: int = 1,
) -> GewekeResult:
    """Run both simulators on ``model`` (every prior proper) and compare them.

    The two simulators get independent generators from ``SeedSequence(seed)``. With
    ``n_chains`` > 1 the successive-conditional simulator runs that many independent chains
    (generators spawned from its own), each with ``burn`` iterations and ``n_successive //
    n_chains`` kept, and the comparison uses the between-chain standard error.
    """
    gibbs = Gibbs(model)
    seed_mc, seed_sc = np.random.SeedSequence(seed).spawn(2)
    rng_mc, rng_sc = np.random.default_rng(seed_mc), np.random.default_rng(seed_sc)
    mc = marginal_conditional(gibbs, rng_mc, n_marginal, n_effects)
    if n_chains == 1:
        sc = successive_conditional(gibbs, rng_sc, n_successive, burn, n_effects)
    else:
        rngs = [np.random.default_rng(s) for s in seed_sc.spawn(n_chains)]
        sc = successive_conditional_chains(gibbs, rngs, n_successive // n_chains, burn, n_effects)
    return compare(mc, sc, n_batches=n_batches, alpha=alpha)
