"""Random effects with a sparse prior precision; iid by default."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._user_warnings import warn_user
from .._validation import id_labels, normalize_id, preview, require_columns, warn_if_boolean_ids
from ..kernels.random_effects import (
    apply_rescale,
    precision_split,
    quadratic_form_matrix,
    rescale_sums,
    sweep_random_effects,
    sweep_random_effects_multitrait,
    sweep_random_effects_quadratic,
)
from ..priors.defaults import covariance_prior_for, variance_prior_for
from ..priors.scaled_inv_chi2 import as_variance_prior
from .base import BindContext, StepContext, Term, Variable


class Random(Term):
    r"""A random effect of the levels of a column: :math:`u \sim N(0, \sigma^2_u I)` (iid).

    Parameters
    ----------
    column : str
        Column of the data holding each record's level (herd, birth year, mother, ...).
    variance : VariancePrior, float or None
        Prior on :math:`\sigma^2_u` (t x t covariance G with t traits); a number fixes it;
        ``None`` takes the default prior (``bayesgen.priors.defaults``).
    name : str, optional
        Defaults to ``column``. Draws are recorded as ``<name>`` (dim ``<name>_level``)
        and ``sigma2_<name>``.
    expand : bool, default True
        After each Gibbs update, rescale (u, sigma2_u) jointly (see ``rescale_move``):
        it leaves the posterior unchanged and speeds up mixing of the variance (one trait).
    slopes, covariance : list of str and {"us", "diag"}, optional
        Random regressions: with ``slopes=["x", ...]`` each level gets an intercept and a
        slope on each covariate, correlated (``covariance="us"``, the default) or not
        (``"diag"``); builds a :class:`bayesgen.terms.random_regression.RandomRegression`
        (see there for priors, sampling and what is recorded).

    Effects are drawn one level at a time (``sweep_random_effects``); the variance from its
    prior's conjugate update given :math:`u'Pu` and q levels, e.g.
    :math:`\sigma^2_u \mid u \sim \text{Scale-inv-}\chi^2(\nu + q, (\nu S^2 + u'Pu)/(\nu + q))`
    with P the prior precision (I here). With t traits, :math:`U` (q x t) has
    :math:`\mathrm{vec}(U') \sim N(0, P^{-1} \otimes G)` and :math:`G \mid U \sim IW(\nu + q, S + U'PU)`.
    """

    genetic = False

    def __new__(cls, *args, slopes=None, covariance=None, **kwargs):
        # Random(column, slopes=[...], covariance="us") is a random regression, its own term.
        if slopes is not None or covariance is not None:
            if slopes is None:
                raise ValueError(f"covariance={covariance!r} applies to random regressions: give the slope "
                                 "columns as well, e.g. Random(column, slopes=['x'], covariance='us').")
            if cls is not Random:
                raise TypeError(f"{cls.__name__} does not take slopes; use bg.RandomRegression(column, slopes, "
                                "pedigree=...) for a random-regression animal model.")
            from .random_regression import RandomRegression

            if len(args) > 4:
                raise TypeError(f"Random takes at most 4 positional arguments, got {len(args)}.")
            named = dict(zip(("column", "variance", "name", "expand"), args))
            clash = sorted(set(named) & set(kwargs))
            if clash:
                raise TypeError(f"Random got multiple values for argument {clash[0]!r}.")
            return RandomRegression(slopes=slopes, covariance="us" if covariance is None else covariance,
                                    **named, **kwargs)
        return super().__new__(cls)

    def __init__(self, column: str, variance=None, name: str | None = None, expand: bool = True,
                 slopes=None, covariance=None):
        if not isinstance(column, str):
            raise TypeError(f"Random column must be a column name (str), got {column!r}.")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Random name must be a str, got {name!r}.")
        self.column = column
        self.name = name or column
        self.variance_prior_arg = variance
        self.expand = expand

    # Names of what is recorded; the animal term overrides them for its default name.
    @property
    def effect_name(self) -> str:
        return self.name

    @property
    def variance_name(self) -> str:
        return f"sigma2_{self.name}"

    @property
    def level_dim(self) -> str:
        return f"{self.name}_level"

    def _levels(self, record_levels: list) -> tuple[list, sp.csr_matrix]:
        """The levels (coords) and the prior precision among them."""
        # Sorted as numbers when every level is an integer ("2" before "10"), else as text.
        levels = list(dict.fromkeys(record_levels))
        levels = [levels[k] for k in np.argsort(id_labels(levels), kind="stable")]
        return levels, sp.identity(len(levels), format="csr")

    def bind(self, context: BindContext) -> None:
        require_columns(context.frame, [self.column], "data")
        record_levels = context.frame[self.column].tolist()
        if type(self)._levels is not Random._levels:  # levels matched to ids outside the data (pedigree, K)
            warn_if_boolean_ids(record_levels, f"Column {self.column!r}")
        record_levels = [normalize_id(v) for v in record_levels]
        missing = [label for label, v in zip(context.frame.index, record_levels) if v is None]
        if missing:
            raise ValueError(f"Column {self.column!r} has missing levels in rows {preview(missing)}.")
        self.levels, precision = self._levels(record_levels)
        position = {lv: k for k, lv in enumerate(self.levels)}
        record_index = np.array([position[v] for v in record_levels], dtype=np.int64)
        q = len(self.levels)
        t = context.n_traits
        self.n_traits = t
        self.traits = list(context.traits)

        order = np.argsort(record_index, kind="stable")
        self._rec_idx = order.astype(np.int64)
        self._rec_ptr = np.searchsorted(record_index[order], np.arange(q + 1)).astype(np.int64)
        self._rec_z = np.ones(order.size)
        self._record_index = record_index
        precision = sp.csr_matrix(precision)
        precision.sort_indices()
        self.precision = precision
        self._prec = (precision.indptr.astype(np.int64), precision.indices.astype(np.int64),
                      precision.data.astype(np.float64))
        share = np.atleast_1d(context.default_share).astype(float)
        if t == 1:
            default = variance_prior_for(context.prior_rule, float(share[0]), float(context.phenotypic_sd[0]))
        else:
            default = covariance_prior_for(context.prior_rule, share, context.phenotypic_sd)
        self.prior = as_variance_prior(self.variance_prior_arg, default, self.variance_name)
        self.prior.check_dim(t, self.variance_name)
        if self.prior.sampled and self.prior.improper_at_zero:
            warn_user(
                f"The prior {self.prior!r} on {self.variance_name} is not integrable at 0: the posterior of a "
                f"random-effect variance is then improper and the chain can collapse to 0 ({q} levels). "
                "Use a proper prior (df > 0 and scale > 0).")
        self._start = np.diag(share)
        self._prior_diagonal = precision.diagonal()

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    def incidence(self) -> sp.csr_matrix:
        """Z (records x levels), one 1 per record in its level's column."""
        n = self._record_index.size
        return sp.csr_matrix((np.ones(n), (np.arange(n), self._record_index)), shape=(n, self.n_levels))

    def coords(self) -> list:
        return list(id_labels(self.levels))

    def variables(self) -> list[Variable]:
        coords = {self.level_dim: self.coords()}
        if self.n_traits == 1:
            return [
                Variable(self.effect_name, (self.level_dim,), coords, high_dimensional=True),
                Variable(self.variance_name),
            ]
        coords["trait"] = self.traits
        mat = {"trait_row": self.traits, "trait_col": self.traits}
        return [
            Variable(self.effect_name, (self.level_dim, "trait"), coords, high_dimensional=True),
            Variable(self.variance_name, ("trait_row", "trait_col"), mat),
            Variable(f"rho_{self.name}", ("trait_row", "trait_col"), mat),
        ]

    def info_variables(self) -> list[Variable]:
        return [Variable(f"rescale_accept_{self.name}", group="sample_stats")] if self._rescales else []

    @property
    def _rescales(self) -> bool:
        return self.expand and self.prior.sampled and self.n_traits == 1

    def init_state(self, rng) -> dict:
        sigma2 = self.prior.initial_value(self._start)
        if self.prior.sampled:
            sigma2 = sigma2 * rng.uniform(0.5, 2.0)
        return {"u": np.zeros((self.n_levels, self.n_traits), order="F"), "sigma2": sigma2,
                "prior_aux": self.prior.init_aux(rng)}

    def draw_prior(self, rng, state) -> None:
        state["sigma2"][:] = self.prior.draw_prior(rng, state["prior_aux"])
        t = self.n_traits
        # u = L_P^-T Z L_G': rows of U have covariance G, levels covariance P^-1.
        z = rng.standard_normal((self.n_levels, t))
        chol_p = np.linalg.cholesky(self.precision.toarray())
        state["u"][:] = np.linalg.solve(chol_p.T, z) @ np.linalg.cholesky(state["sigma2"]).T

    def step(self, rng, state, ctx: StepContext) -> dict:
        quadratic = self.sweep_effects(rng, state, ctx)
        self.draw_variance(rng, state, quadratic)
        if self._rescales:
            return {f"rescale_accept_{self.name}": float(self.rescale_move(rng, state, ctx))}
        return {}

    def sweep_effects(self, rng, state, ctx: StepContext):
        """Single-site Gibbs sweep of the effects given the variance.

        Returns :math:`u'Pu` (1 x 1) of the swept effects when the sweep computed it on the way
        (one trait, sorted precision: ``sweep_random_effects_quadratic``), else None.
        """
        u = state["u"]
        if self.n_traits == 1:
            split = self._precision_split()
            if split is not None:
                ss = sweep_random_effects_quadratic(
                    rng, u[:, 0], ctx.resid[:, 0], ctx.weights[:, 0], self._rec_ptr, self._rec_idx, self._rec_z,
                    self._weighted_counts(ctx), *self._prec, split, ctx.sigma2_e, float(state["sigma2"][0, 0]),
                )
                return np.full((1, 1), ss)
            sweep_random_effects(
                rng, u[:, 0], ctx.resid[:, 0], ctx.weights[:, 0], self._rec_ptr, self._rec_idx, self._rec_z,
                self._weighted_counts(ctx), *self._prec, ctx.sigma2_e, float(state["sigma2"][0, 0]),
            )
        else:
            sweep_random_effects_multitrait(
                rng, u, ctx.resid, ctx.weights, self._rec_ptr, self._rec_idx, self._rec_z, *self._prec,
                np.linalg.inv(ctx.residual_covariance), np.linalg.inv(state["sigma2"]),
            )
        return None

    def _precision_split(self):
        # Where each row of P holds its diagonal; P is fixed once bound (a subclass may
        # replace self._prec in its own bind), so this is cached by identity of the arrays.
        if getattr(self, "_split_for", None) is not self._prec:
            self._split = precision_split(self._prec[0], self._prec[1])
            self._split_for = self._prec
        return self._split

    def _weighted_counts(self, ctx: StepContext) -> np.ndarray:
        # z_i'Wz_i per level; the weights are fixed per chain except in joint-distribution
        # tests, so this is cached on first use by identity of the weights array.
        if getattr(self, "_zz_for", None) is not ctx.weights:
            self._zz = np.bincount(self._record_index, weights=ctx.weights[:, 0], minlength=self.n_levels)
            self._zz_for = ctx.weights
        return self._zz

    def draw_variance(self, rng, state, quadratic=None) -> None:
        """Draw the variance (covariance) from its full conditional given the effects.

        ``quadratic``: :math:`U'PU` of the current effects if already known (from the sweep).
        """
        ss = quadratic_form_matrix(state["u"], *self._prec) if quadratic is None else quadratic
        state["sigma2"][:] = self.prior.draw_posterior(rng, ss, self.n_levels, state["prior_aux"])

    def rescale_move(self, rng, state, ctx: StepContext) -> bool:
        r"""Joint move (u, sigma2_u) -> (k u, k^2 sigma2_u), k > 0, that keeps the posterior.

        A generalised Gibbs step on the scale group (Liu & Sabatti 2000; the idea of
        parameter expansion, Liu, Rubin & Wu 1998): k is drawn from
        :math:`\pi(k u, k^2\sigma^2_u)\,k^{q+2}\,dk/k`. The effects' prior density contributes
        :math:`k^{-q}`, so this is proportional to
        :math:`\exp(-(a k^2 - 2 b k)/(2\sigma^2_e))\; p(k^2\sigma^2_u)\; k`
        with :math:`a = (Zu)'W(Zu)`, :math:`b = (Zu)'W(e + Zu)` and p the prior density of
        the variance. One independence Metropolis step proposes
        :math:`k^* \sim N(b/a, \sigma^2_e/a)` and accepts with probability
        :math:`\min(1, f(k^*)/f(1))`, :math:`f(k) = p(k^2\sigma^2_u)\,k` (the Gaussian part
        cancels with the proposal). For :math:`\text{Scale-inv-}\chi^2(\nu, S^2)`,
        :math:`f(k) \propto k^{-\nu-1}\exp(-\nu S^2/(2\sigma^2_u k^2))`. Single-site sweeps move
        u and sigma2_u along their joint ridge slowly; this move travels along it in one
        step. Cost O(records). Returns whether the move was accepted.
        """
        u, sigma2 = state["u"], state["sigma2"]
        weights = ctx.weights[:, 0]
        resid = ctx.resid[:, 0]
        sigma2_e = ctx.sigma2_e
        # One level per record (Zu = u[record_index]): one fused pass over the records, no
        # temporaries; subclasses with another design override fitted and take the general path.
        by_level = type(self).fitted is Random.fitted
        if by_level:
            a, b = rescale_sums(u[:, 0], self._record_index, weights, resid)
        else:
            fit = self.fitted(state)[:, 0]
            a = float(np.dot(weights * fit, fit))
            b = float(np.dot(weights * fit, resid + fit)) if a > 0.0 else 0.0
        if a <= 0.0:
            return False
        proposal = b / a + np.sqrt(sigma2_e / a) * rng.standard_normal()
        log_u = np.log(rng.random())
        if proposal <= 0.0:
            return False
        aux = state["prior_aux"]  # the move keeps auxiliary variables fixed: their conditional density
        current = self.prior.log_density(sigma2, aux)
        log_ratio = self.prior.log_density(sigma2 * proposal * proposal, aux) - current + np.log(proposal)
        if log_u < log_ratio:
            if by_level:
                apply_rescale(u[:, 0], self._record_index, resid, proposal)
            else:
                resid -= (proposal - 1.0) * fit
                u *= proposal
            sigma2 *= proposal * proposal
            return True
        return False

    def fitted(self, state) -> np.ndarray:
        return state["u"][self._record_index]

    def conditional_prior(self, state):
        r"""Row-wise conditional prior of the effects: :math:`u_i \mid u_{-i} \sim N(-s_i/p_i, 1/p_i)`.

        Returns (p, s) with :math:`p_i = P_{ii}/\sigma^2` and :math:`s_i = \sum_{k \ne i} P_{ik} u_k/\sigma^2`,
        from row i of the prior precision (one trait), for the integrated pointwise
        log-likelihood (``bayesgen.model.pointwise``).
        """
        u = state["u"][:, 0]
        sigma2 = state["sigma2"][0, 0]
        diag = self._prior_diagonal
        return diag / sigma2, (self.precision @ u - diag * u) / sigma2

    def record(self, state, ctx) -> dict:
        if self.n_traits == 1:
            return {self.effect_name: state["u"][:, 0].copy(), self.variance_name: state["sigma2"][0, 0]}
        cov = state["sigma2"]
        sd = np.sqrt(np.diag(cov))
        return {self.effect_name: state["u"].copy(), self.variance_name: cov.copy(),
                f"rho_{self.name}": cov / np.outer(sd, sd)}

    def variance(self, state):
        return state["sigma2"]

    def log_prior(self, state) -> float:
        return self.prior.log_density(state["sigma2"]) if self.prior.sampled else 0.0

    def priors(self) -> dict:
        return {self.variance_name: self.prior.to_dict()}

    def describe(self) -> dict:
        return {
            "term": type(self).__name__,
            "name": self.name,
            "column": self.column,
            "levels": self.n_levels,
            "prior": self.prior.to_dict(),
        }
