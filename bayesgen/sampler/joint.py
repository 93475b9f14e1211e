r"""Joint and collapsed samplers of location effects, by sparse Cholesky of the mixed-model equations.

With the fixed effects :math:`\beta` and the effects :math:`u_k` of iid and pedigree terms
stacked as :math:`b`, and :math:`M = [X\; Z_1 \dots Z_K]`, the location effects of a
one-trait model have the full conditional

.. math:: b \mid \cdot \sim N(C^{-1} r,\; \sigma^2_e C^{-1}),\qquad
          C = M'WM + \mathrm{blockdiag}(\lambda_0 I,\; \lambda_1 P_1, \dots, \lambda_K P_K),\quad r = M'W\tilde y,

where :math:`\tilde y` is the response minus every other term (markers), W the 0/1
weights, :math:`P_k` the prior precision among term k's levels (I, :math:`A^{-1}`),
:math:`\lambda_k = \sigma^2_e/\sigma^2_k`, and :math:`\lambda_0 = \sigma^2_e/\tau^2` for a
normal prior on :math:`\beta` (0 for the flat one). C has a fixed sparsity pattern: its
symbolic analysis (fill-reducing ordering, pattern of the factor) is done once per model,
and only the numeric factorisation is repeated when the variance ratios change.

``JointLocations`` draws b in one block (then each variance given its effects, with the
rescaling move). ``CollapsedLocations`` first draws the variance components from their
marginal posterior with b integrated out, then b given them. The marginal is the
restricted likelihood (flat prior on :math:`\beta`):

.. math:: -2\log p(\tilde y \mid \theta) = (n - p_0 - \textstyle\sum_k q_k)\log\sigma^2_e
          + \textstyle\sum_k q_k \log\sigma^2_k + \log|C| + (\tilde y'W\tilde y - r'C^{-1}r)/\sigma^2_e + \text{const},

n observed records, :math:`p_0` flat fixed effects, :math:`q_k` levels of each block with a
prior (a normal prior on :math:`\beta` counts as one with fixed variance
:math:`\tau^2`). The log variances are drawn by Metropolis steps on this target times
their priors (and the Jacobian): a random walk whose covariance is adapted during burn-in
only, and after burn-in also an independence proposal, a multivariate t fitted to the
burn-in draws. Both leave the marginal posterior invariant, and so the whole step the joint
posterior: it is a blocked Gibbs step (variances | rest with locations integrated out, then
locations | variances).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..terms.base import StepContext
from ..terms.fixed import Fixed
from ..variable import Variable

#: "auto" factorises only mixed-model equations with at most this many rows ...
AUTO_MAX_EQUATIONS = 300_000
#: ... whose Cholesky factor has at most this many nonzeros ...
AUTO_MAX_FACTOR_NONZEROS = 2_000_000
#: ... and costs at most this many flops (about 2-5 ms on one core); beyond, single-site
#: updates are cheaper per effective draw (README, "Location samplers").
AUTO_MAX_FLOPS = 2e7
#: Burn-in iterations needed before the collapsed step adapts its proposals.
ADAPT_AFTER = 20
#: Degrees of freedom of the independence proposal (heavier tails than the posterior).
INDEPENDENCE_DF = 5.0
#: Its covariance over the burn-in draws' covariance (1.2-1.5 measured alike on gryphon).
INDEPENDENCE_INFLATION = 1.2
#: Probability, per iteration after burn-in, of an independence rather than a random-walk proposal.
INDEPENDENCE_PROBABILITY = 0.8


def auto_block(model, indices):
    """The location block "auto" picks, or None for single-site updates.

    The collapsed block when there is a random or pedigree term and one factorisation of the
    mixed-model equations is cheap (known from the symbolic analysis, before any numeric
    work); single-site otherwise: fixed effects alone are already drawn as one block, and
    large random-mating pedigrees fill the factor almost completely.
    """
    from ..kernels.cholesky import FactorTooLargeError

    if not any(not isinstance(model.terms[k], Fixed) for k in indices):
        return None
    if sum(_n_columns(model.terms[k]) for k in indices) > AUTO_MAX_EQUATIONS:
        return None
    try:
        block = CollapsedLocations(model, indices, max_factor_nonzeros=AUTO_MAX_FACTOR_NONZEROS)
    except FactorTooLargeError:
        return None
    return block if block.symbolic.flops <= AUTO_MAX_FLOPS else None


def _n_columns(term) -> int:
    return term.x.shape[1] if isinstance(term, Fixed) else term.n_levels


class MixedModelEquations:
    """The design M, the pattern of C and the maps that fill in C's values for given ratios."""

    def __init__(self, model, indices):
        self.indices = list(indices)
        terms = [model.terms[k] for k in indices]
        weights = model._observed_matrix[:, 0].astype(np.float64)
        designs, sizes = [], []
        for term in terms:
            design = sp.csr_matrix(term.x) if isinstance(term, Fixed) else term.incidence()
            designs.append(design)
            sizes.append(design.shape[1])
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        n_eq = int(self.offsets[-1])
        self.n_equations = n_eq
        self.design = sp.hstack(designs, format="csr")
        self.design_t = self.design.T.tocsr()
        self.weights = weights
        mtwm = (self.design_t @ sp.diags(weights) @ self.design).tocsr()
        # Prior-precision blocks, embedded at their offsets; a flat block contributes nothing.
        blocks = []
        for k, term in enumerate(terms):
            start = self.offsets[k]
            if isinstance(term, Fixed):
                precision = sp.identity(sizes[k], format="csr") if term.prior_variance is not None else None
            else:
                precision = term.precision
            if precision is not None:
                embedded = sp.csr_matrix((precision.data, precision.indices + start,
                                          np.concatenate([np.zeros(start, dtype=np.int64), precision.indptr,
                                                          np.full(n_eq - start - sizes[k], precision.indptr[-1])])),
                                         shape=(n_eq, n_eq))
                blocks.append((k, embedded))
        pattern = _structure(mtwm) + _structure(sp.identity(n_eq, format="csr"))
        for _, embedded in blocks:
            pattern = pattern + _structure(embedded)
        pattern = pattern.tocsr()
        pattern.sum_duplicates()
        pattern.sort_indices()
        self.pattern = pattern
        keys = _keys(pattern)
        self.base_values = np.zeros(pattern.nnz)
        mtwm.sort_indices()
        self.base_values[np.searchsorted(keys, _keys(mtwm))] = mtwm.data
        self.block_positions = {k: np.searchsorted(keys, _keys(e)) for k, e in blocks}
        self.block_values = {k: e.data.copy() for k, e in blocks}
        self.flat_columns = sum(sizes[k] for k, t in enumerate(terms) if isinstance(t, Fixed) and t.prior_variance is None)
        self.n_observed = int(weights.sum())
        self.sizes = sizes

    def values(self, ratios: dict) -> np.ndarray:
        """Values of C (in ``pattern`` order) for ratios {block k: lambda_k}."""
        out = self.base_values.copy()
        for k, positions in self.block_positions.items():
            out[positions] += ratios[k] * self.block_values[k]
        return out

    def rhs(self, response: np.ndarray) -> np.ndarray:
        return self.design_t @ (self.weights * response)


def _structure(matrix) -> sp.csr_matrix:
    out = sp.csr_matrix(matrix, copy=True)
    out.data = np.ones_like(out.data)
    return out


def _keys(matrix: sp.csr_matrix) -> np.ndarray:
    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    return rows * matrix.shape[1] + matrix.indices.astype(np.int64)


class JointLocations:
    """Draw fixed, iid and pedigree effects jointly, then each variance given its effects."""

    kind = "joint"

    def __init__(self, model, indices, max_factor_nonzeros: int = 200_000_000):
        from ..kernels.cholesky import SparseCholesky  # compiled kernels: loaded only when used

        self.model = model
        self.indices = list(indices)
        self.terms = [model.terms[k] for k in indices]
        self.mme = MixedModelEquations(model, indices)
        self.symbolic = SparseCholesky(self.mme.pattern, max_factor_nonzeros=max_factor_nonzeros)

    # ------------------------------------------------------------------ helpers
    def _effects(self, states) -> np.ndarray:
        parts = []
        for k, term in zip(self.indices, self.terms):
            parts.append(states[k]["beta"][:, 0] if isinstance(term, Fixed) else states[k]["u"][:, 0])
        return np.concatenate(parts)

    def _set_effects(self, states, b) -> None:
        for j, (k, term) in enumerate(zip(self.indices, self.terms)):
            values = b[self.mme.offsets[j]:self.mme.offsets[j + 1]]
            if isinstance(term, Fixed):
                states[k]["beta"][:, 0] = values
            else:
                states[k]["u"][:, 0] = values

    def _ratios(self, states, sigma2_e: float) -> dict:
        ratios = {}
        for j, (k, term) in enumerate(zip(self.indices, self.terms)):
            if j in self.mme.block_positions:
                variance = term.prior_variance if isinstance(term, Fixed) else states[k]["sigma2"][0, 0]
                ratios[j] = sigma2_e / variance
        return ratios

    def init_state(self, rng) -> dict:
        return {"factor": self.symbolic.copy()}

    def info_variables(self) -> list:
        return [v for t in self.terms if not isinstance(t, Fixed) for v in t.info_variables()]

    def describe(self) -> dict:
        return {"block": self.kind, "terms": [t.name for t in self.terms], "equations": self.mme.n_equations,
                "factor_nonzeros": int(self.symbolic.nnz_factor)}

    def _draw_locations(self, rng, states, factor, partial, ctx: StepContext, sigma2_e: float) -> None:
        """b ~ N(C^-1 r, sigma2_e C^-1) with C factorised in ``factor``; updates the residual."""
        b = factor.draw(rng, self.mme.rhs(partial), scale=sigma2_e)
        self._set_effects(states, b)
        ctx.resid[:, 0] = partial - self.mme.design @ b

    # ------------------------------------------------------------------ the step
    def step(self, rng, states, block_state, ctx: StepContext) -> dict:
        sigma2_e = ctx.sigma2_e
        partial = ctx.resid[:, 0] + self.mme.design @ self._effects(states)
        factor = block_state["factor"]
        factor.factorize(self.mme.values(self._ratios(states, sigma2_e)))
        self._draw_locations(rng, states, factor, partial, ctx, sigma2_e)
        info = {}
        for k, term in zip(self.indices, self.terms):
            if isinstance(term, Fixed):
                continue
            term.draw_variance(rng, states[k])
            if term._rescales:
                info[f"rescale_accept_{term.name}"] = float(term.rescale_move(rng, states[k], ctx))
        return info


class CollapsedLocations(JointLocations):
    """Variance components from their marginal posterior (locations integrated out), then locations."""

    kind = "collapsed"

    def __init__(self, model, indices, max_factor_nonzeros: int = 200_000_000):
        super().__init__(model, indices, max_factor_nonzeros)
        # The sampled variances: ("term", j, k) for location term j (model index k), and the residual.
        self.components = [(j, k) for j, (k, t) in enumerate(zip(self.indices, self.terms))
                           if not isinstance(t, Fixed) and t.prior.sampled]
        self.residual = model.residual
        self.samples_residual = model.residual.prior.sampled
        self.dim = len(self.components) + int(self.samples_residual)
        # True when the location terms and the residual are the whole model.
        self.only_locations = len(self.indices) == len(model.terms) - 1

    def init_state(self, rng) -> dict:
        d = self.dim
        return {"factor": self.symbolic.copy(), "proposal": self.symbolic.copy(), "cache": None,
                "rw_chol": np.eye(d) * (0.5 / np.sqrt(max(d, 1))), "history": [], "independent": None}

    def info_variables(self) -> list:
        return [Variable("accept_variances_rw", group="sample_stats"),
                Variable("accept_variances_independent", group="sample_stats")]

    # ------------------------------------------------------------------ the marginal posterior
    def _unpack(self, phi, states):
        """Variances {location block j: sigma2} and sigma2_e from log-variances phi."""
        variances = {}
        for i, (j, _) in enumerate(self.components):
            variances[j] = np.exp(phi[i])
        sigma2_e = np.exp(phi[-1]) if self.samples_residual else states[-1]["sigma2_e"][0, 0]
        return variances, sigma2_e

    def _current_phi(self, states) -> np.ndarray:
        phi = [np.log(states[k]["sigma2"][0, 0]) for _, k in self.components]
        if self.samples_residual:
            phi.append(np.log(states[-1]["sigma2_e"][0, 0]))
        return np.array(phi)

    def _log_target(self, phi, states, factor, rhs, yy) -> float:
        r"""log p(phi | y~) up to a constant: restricted likelihood x priors x Jacobian."""
        variances, sigma2_e = self._unpack(phi, states)
        mme = self.mme
        ratios, log_prior, quad_levels = {}, 0.0, 0.0
        n_with_prior = 0
        for j, (k, term) in enumerate(zip(self.indices, self.terms)):
            if j not in mme.block_positions:
                continue
            q = mme.sizes[j]
            n_with_prior += q
            if isinstance(term, Fixed):
                variance = term.prior_variance
            elif j in variances:
                variance = variances[j]
                log_prior += term.prior.log_density(np.array([[variance]]))
            else:
                variance = states[k]["sigma2"][0, 0]
            ratios[j] = sigma2_e / variance
            quad_levels += q * np.log(variance)
        if self.samples_residual:
            log_prior += self.residual.prior.log_density(np.array([[sigma2_e]]))
        ratio_values = np.array(list(ratios.values()) + [sigma2_e])
        if not np.isfinite(log_prior) or not np.all(np.isfinite(ratio_values) & (ratio_values > 0)):
            return -np.inf  # a proposal beyond floating point (variance 0 or inf): zero density
        factor.factorize(mme.values(ratios))
        half = factor.solve_l(rhs)  # r'C^-1 r = |L^-1 P r|^2
        n_resid = mme.n_observed - mme.flat_columns - n_with_prior
        minus_two_loglik = (n_resid * np.log(sigma2_e) + quad_levels + factor.logdet()
                            + (yy - half @ half) / sigma2_e)
        return -0.5 * minus_two_loglik + log_prior + float(np.sum(phi))

    # ------------------------------------------------------------------ the step
    @staticmethod
    def _same(key, other) -> bool:
        return np.array_equal(key[0], other[0]) and np.array_equal(key[1], other[1]) and key[2] == other[2]

    def step(self, rng, states, block_state, ctx: StepContext) -> dict:
        if self.only_locations:
            partial = states[-1]["y"][:, 0]  # nothing else in the model: exactly y, so the cache can hit
        else:
            partial = ctx.resid[:, 0] + self.mme.design @ self._effects(states)
        rhs = self.mme.rhs(partial)
        yy = float(np.dot(self.mme.weights * partial, partial))
        factor, proposal = block_state["factor"], block_state["proposal"]
        phi = self._current_phi(states)
        key = (phi.copy(), rhs.copy(), yy)
        cache = block_state["cache"]
        # `factor` still holds C at phi when nothing it depends on changed since the last step
        # (no other term moved the response or the variances): skip refactorising.
        if cache is not None and self._same(key, cache[0]):
            current = cache[1]
        else:
            current = self._log_target(phi, states, factor, rhs, yy)
        info = {"accept_variances_rw": np.nan, "accept_variances_independent": np.nan}
        if self.dim:
            independent = block_state["independent"]
            # One proposal per iteration: after burn-in mostly an independence proposal fitted to
            # the burn-in draws, else (and always during burn-in) a random walk; the choice does
            # not depend on the state, so the mixture kernel keeps the target.
            if independent is not None and rng.random() < INDEPENDENCE_PROBABILITY:
                mean, chol, log_q = independent
                candidate = mean + chol @ _student_t(rng, self.dim)
                log_correction = log_q(phi) - log_q(candidate)
                name = "accept_variances_independent"
            else:
                candidate = phi + block_state["rw_chol"] @ rng.standard_normal(self.dim)
                log_correction = 0.0
                name = "accept_variances_rw"
            log_u = np.log(rng.random())
            value = self._log_target(candidate, states, proposal, rhs, yy)
            accepted = log_u < value - current + log_correction
            if accepted:
                phi, current = candidate, value
                factor, proposal = proposal, factor
            info[name] = float(accepted)
            self._adapt(block_state, phi, ctx.tuning)
        block_state["factor"], block_state["proposal"] = factor, proposal
        block_state["cache"] = ((phi.copy(), rhs.copy(), yy), current)
        variances, sigma2_e = self._unpack(phi, states)
        # The Metropolis step targeted the variances with the priors' auxiliary variables
        # integrated out (marginal prior densities); now draw those given the variances.
        for j, k in self.components:
            states[k]["sigma2"][0, 0] = variances[j]
            self.terms[j].prior.refresh_aux(rng, states[k]["sigma2"], states[k]["prior_aux"])
        if self.samples_residual:
            states[-1]["sigma2_e"][0, 0] = sigma2_e
            ctx.residual_covariance[0, 0] = sigma2_e
            self.residual.prior.refresh_aux(rng, states[-1]["sigma2_e"], states[-1]["prior_aux"])
        # `factor` holds C at the accepted variances.
        self._draw_locations(rng, states, factor, partial, ctx, sigma2_e)
        return info

    def _adapt(self, block_state, phi, tuning: bool) -> None:
        """During burn-in: random-walk covariance 2.38^2/d x the covariance of the later half
        of the burn-in draws so far (the first half is the transient from the starting values).

        At the first iteration after burn-in the independence proposal (a multivariate t) is
        frozen from the same draws; nothing changes afterwards, so the kept draws come from a
        fixed kernel.
        """
        d = self.dim
        history = block_state["history"]
        if tuning:
            history.append(phi.copy())
            if len(history) >= 2 * ADAPT_AFTER and len(history) % ADAPT_AFTER == 0:
                block_state["rw_chol"] = np.linalg.cholesky(_later_half_cov(history) * 2.38**2 / d)
        elif block_state["independent"] is None and len(history) >= 2 * ADAPT_AFTER:
            later = np.array(history[len(history) // 2:])
            mean = later.mean(axis=0)
            # Wider than the burn-in spread: an independence proposal must not have lighter tails.
            chol = np.linalg.cholesky(_later_half_cov(history) * INDEPENDENCE_INFLATION)
            block_state["independent"] = (mean, chol, _student_t_logpdf(mean, chol))
            block_state["history"] = []


def _later_half_cov(history) -> np.ndarray:
    later = np.array(history[len(history) // 2:])
    return np.atleast_2d(np.cov(later, rowvar=False)) + 1e-8 * np.eye(later.shape[1])


def _student_t(rng, d: int) -> np.ndarray:
    """A standard multivariate t draw with INDEPENDENCE_DF degrees of freedom."""
    return rng.standard_normal(d) / np.sqrt(rng.chisquare(INDEPENDENCE_DF) / INDEPENDENCE_DF)


def _student_t_logpdf(mean, chol):
    """log density (up to a constant) of mean + chol @ t_df(0, I)."""
    d = mean.size
    inverse = np.linalg.inv(chol)

    def log_q(x):
        z = inverse @ (x - mean)
        return -0.5 * (INDEPENDENCE_DF + d) * np.log1p(z @ z / INDEPENDENCE_DF)

    return log_q
