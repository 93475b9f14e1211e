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
burn-in draws.

A direct-maternal term (``MaternalAnimal``) takes part with its 2q equations (:math:`a_d`
then :math:`a_m`, design :math:`[Z_d\; Z_m]`) and prior precision :math:`G^{-1} \otimes A^{-1}`,
i.e. three blocks :math:`A^{-1}` scaled by the elements of :math:`\sigma^2_e G^{-1}`; its
:math:`q\log|G|` replaces :math:`q_k\log\sigma^2_k` above. G enters the Metropolis step by
its log-Cholesky parameters (a, b, c), :math:`L = [[e^a, 0], [b, e^c]]`, G = LL', with
Jacobian :math:`4e^{3a + 2c}`; such blocks take ``MATERNAL_PROPOSALS`` proposals per iteration. Both leave the marginal posterior invariant, and so the whole step the joint
posterior: it is a blocked Gibbs step (variances | rest with locations integrated out, then
locations | variances).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..terms.base import StepContext
from ..terms.fixed import Fixed
from ..terms.maternal import MaternalAnimal
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
#: Metropolis proposals per iteration when a direct-maternal G (three more parameters) is in the
#: block. On gryphon bwt (6 parameters; 4 x 2,000 draws after 1,000) 4 proposals raised the bulk
#: ESS of sigma2_m from 18 to 309 and of sigma2_d from 57 to 680 at 2.5x the CPU per iteration:
#: the adaptation sees 4x the burn-in draws and the independence proposal fitted to them is
#: accepted 26% of the time instead of 7% (benchmarks/bench_maternal.py).
MATERNAL_PROPOSALS = 4


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
    if isinstance(term, Fixed):
        return term.x.shape[1]
    return 2 * term.n_levels if isinstance(term, MaternalAnimal) else term.n_levels


def _embedded(precision, row: int, col: int, n_eq: int) -> sp.csr_matrix:
    """``precision`` placed at rows row.., columns col.. of an n_eq x n_eq matrix."""
    coo = precision.tocoo()
    out = sp.csr_matrix((coo.data, (coo.row + row, coo.col + col)), shape=(n_eq, n_eq))
    out.sort_indices()
    return out


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
        # A direct-maternal term (equations a_d then a_m) has A^-1 (x) G^-1: three blocks keyed
        # (k, "dd"), (k, "dm") (both off-diagonal copies) and (k, "mm"), each A^-1 times an
        # element of sigma2_e G^-1.
        blocks = []
        self.with_prior = set()
        for k, term in enumerate(terms):
            start = int(self.offsets[k])
            if isinstance(term, MaternalAnimal):
                q = term.n_levels
                prec = term.precision
                blocks.append(((k, "dd"), _embedded(prec, start, start, n_eq)))
                blocks.append(((k, "dm"), _embedded(prec, start, start + q, n_eq) + _embedded(prec, start + q, start, n_eq)))
                blocks.append(((k, "mm"), _embedded(prec, start + q, start + q, n_eq)))
                self.with_prior.add(k)
                continue
            if isinstance(term, Fixed):
                precision = sp.identity(sizes[k], format="csr") if term.prior_variance is not None else None
            else:
                precision = term.precision
            if precision is not None:
                blocks.append((k, _embedded(precision, start, start, n_eq)))
                self.with_prior.add(k)
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
        for _, e in blocks:
            e.sort_indices()
        self.block_positions = {k: np.searchsorted(keys, _keys(e)) for k, e in blocks}
        self.block_values = {k: e.data.copy() for k, e in blocks}
        self.flat_columns = sum(sizes[k] for k, t in enumerate(terms) if isinstance(t, Fixed) and t.prior_variance is None)
        self.n_observed = int(weights.sum())
        self.sizes = sizes

    def values(self, ratios: dict) -> np.ndarray:
        """Values of C (in ``pattern`` order) for ratios {block key: lambda} (keys of ``block_positions``)."""
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
            if isinstance(term, Fixed):
                parts.append(states[k]["beta"][:, 0])
            elif isinstance(term, MaternalAnimal):
                parts.append(states[k]["u"].T.ravel())  # a_d then a_m
            else:
                parts.append(states[k]["u"][:, 0])
        return np.concatenate(parts)

    def _set_effects(self, states, b) -> None:
        for j, (k, term) in enumerate(zip(self.indices, self.terms)):
            values = b[self.mme.offsets[j]:self.mme.offsets[j + 1]]
            if isinstance(term, Fixed):
                states[k]["beta"][:, 0] = values
            elif isinstance(term, MaternalAnimal):
                states[k]["u"][:] = values.reshape(2, -1).T
            else:
                states[k]["u"][:, 0] = values

    def _ratios(self, states, sigma2_e: float) -> dict:
        ratios = {}
        for j, (k, term) in enumerate(zip(self.indices, self.terms)):
            if isinstance(term, MaternalAnimal):
                ratios.update(_maternal_ratios(j, sigma2_e, states[k]["sigma2"]))
            elif j in self.mme.with_prior:
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
        # The sampled variances: (j, k) for location term j (model index k), and the residual.
        # Each has one parameter (log sigma2), a direct-maternal G three (log-Cholesky, below);
        # ``slices[j]`` are its positions in phi.
        self.components = [(j, k) for j, (k, t) in enumerate(zip(self.indices, self.terms))
                           if not isinstance(t, Fixed) and t.prior.sampled]
        self.slices, start = {}, 0
        for j, _ in self.components:
            width = 3 if isinstance(self.terms[j], MaternalAnimal) else 1
            self.slices[j] = slice(start, start + width)
            start += width
        self.residual = model.residual
        self.samples_residual = model.residual.prior.sampled
        self.dim = start + int(self.samples_residual)
        #: Metropolis proposals per iteration (each one factorisation of C); locations drawn once after.
        self.proposals = MATERNAL_PROPOSALS if any(isinstance(t, MaternalAnimal) for t in self.terms) else 1
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
        """Variances {location block j: sigma2 (1 x 1) or G (2 x 2)} and sigma2_e from phi."""
        variances = {}
        for j, _ in self.components:
            part = phi[self.slices[j]]
            variances[j] = _covariance_from_log_cholesky(part) if part.size == 3 else np.exp(part).reshape(1, 1)
        sigma2_e = np.exp(phi[-1]) if self.samples_residual else states[-1]["sigma2_e"][0, 0]
        return variances, sigma2_e

    def _current_phi(self, states) -> np.ndarray:
        phi = []
        for j, k in self.components:
            value = states[k]["sigma2"]
            phi.extend(_log_cholesky(value) if value.shape == (2, 2) else [np.log(value[0, 0])])
        if self.samples_residual:
            phi.append(np.log(states[-1]["sigma2_e"][0, 0]))
        return np.array(phi, dtype=np.float64)

    def _in_support(self, variances, sigma2_e) -> bool:
        """Every variance positive and finite and every G positive definite (false only beyond
        floating point on the log scale: exp overflow or underflow)."""
        if not sigma2_e > 0:
            return False
        for value in variances.values():
            if not (np.all(np.isfinite(value)) and value[0, 0] > 0):
                return False
            if value.shape == (2, 2) and not value[0, 0] * value[1, 1] > value[0, 1] ** 2:
                return False
        return True

    def _log_jacobian(self, phi) -> float:
        """log |d(variances)/d(phi)|: the sum of the log-variances, and for each G parametrised by
        log-Cholesky (a, b, c), L = [[e^a, 0], [b, e^c]], G = LL': log 4 + 3a + 2c."""
        total = float(phi[-1]) if self.samples_residual else 0.0
        for j, _ in self.components:
            part = phi[self.slices[j]]
            total += 3.0 * part[0] + 2.0 * part[2] if part.size == 3 else float(part[0])
        return total

    def _log_target(self, phi, states, factor, rhs, yy) -> float:
        r"""log p(phi | y~) up to a constant: restricted likelihood x priors x Jacobian."""
        variances, sigma2_e = self._unpack(phi, states)
        if not self._in_support(variances, sigma2_e):
            return -np.inf
        mme = self.mme
        ratios, log_prior, quad_levels = {}, 0.0, 0.0
        n_with_prior = 0
        for j, (k, term) in enumerate(zip(self.indices, self.terms)):
            if j not in mme.with_prior:
                continue
            n_with_prior += mme.sizes[j]
            if isinstance(term, Fixed):
                variance = np.array([[term.prior_variance]])
            elif j in variances:
                variance = variances[j]
                log_prior += term.prior.log_density(variance)
            else:
                variance = states[k]["sigma2"]
            if isinstance(term, MaternalAnimal):
                # prior covariance G (x) A of the 2q effects: log-determinant q log|G| + const
                sign, logdet = np.linalg.slogdet(variance)
                if sign <= 0 or not np.isfinite(logdet):
                    return -np.inf
                ratios.update(_maternal_ratios(j, sigma2_e, variance))
                quad_levels += term.n_levels * logdet
            else:
                ratios[j] = sigma2_e / variance[0, 0]
                quad_levels += mme.sizes[j] * np.log(variance[0, 0])
        if self.samples_residual:
            log_prior += self.residual.prior.log_density(np.array([[sigma2_e]]))
        diagonal = [value for key, value in ratios.items() if not (isinstance(key, tuple) and key[1] == "dm")]
        ratio_values = np.array(diagonal + [sigma2_e, quad_levels] + list(ratios.values()))
        if not np.isfinite(log_prior) or not np.all(np.isfinite(ratio_values)) or min(diagonal + [sigma2_e]) <= 0:
            return -np.inf  # a proposal beyond floating point (variance 0 or inf): zero density
        factor.factorize(mme.values(ratios))
        half = factor.solve_l(rhs)  # r'C^-1 r = |L^-1 P r|^2
        n_resid = mme.n_observed - mme.flat_columns - n_with_prior
        minus_two_loglik = (n_resid * np.log(sigma2_e) + quad_levels + factor.logdet()
                            + (yy - half @ half) / sigma2_e)
        return -0.5 * minus_two_loglik + log_prior + self._log_jacobian(phi)

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
        counts = {"accept_variances_rw": [0, 0], "accept_variances_independent": [0, 0]}
        for _ in range(self.proposals if self.dim else 0):
            independent = block_state["independent"]
            # After burn-in mostly an independence proposal fitted to the burn-in draws, else
            # (and always during burn-in) a random walk; the choice does not depend on the
            # state, so the mixture kernel keeps the target.
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
            counts[name][0] += int(accepted)
            counts[name][1] += 1
            self._adapt(block_state, phi, ctx.tuning)
        for name, (accepted, tried) in counts.items():
            if tried:
                info[name] = accepted / tried
        block_state["factor"], block_state["proposal"] = factor, proposal
        block_state["cache"] = ((phi.copy(), rhs.copy(), yy), current)
        variances, sigma2_e = self._unpack(phi, states)
        # The Metropolis step targeted the variances with the priors' auxiliary variables
        # integrated out (marginal prior densities); now draw those given the variances.
        for j, k in self.components:
            states[k]["sigma2"][:] = variances[j]
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


def _maternal_ratios(j: int, sigma2_e: float, g: np.ndarray) -> dict:
    """The multipliers of A^-1 in C's direct-maternal blocks: the elements of sigma2_e G^-1."""
    g_inv = np.linalg.inv(g)
    return {(j, "dd"): sigma2_e * g_inv[0, 0], (j, "dm"): sigma2_e * g_inv[0, 1], (j, "mm"): sigma2_e * g_inv[1, 1]}


def _log_cholesky(g: np.ndarray) -> list:
    """(a, b, c) with G = LL', L = [[e^a, 0], [b, e^c]]."""
    chol = np.linalg.cholesky(g)
    return [np.log(chol[0, 0]), chol[1, 0], np.log(chol[1, 1])]


def _covariance_from_log_cholesky(part) -> np.ndarray:
    chol = np.array([[np.exp(part[0]), 0.0], [part[1], np.exp(part[2])]])
    return chol @ chol.T


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
